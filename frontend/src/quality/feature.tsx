import type { Feature } from "../app/feature";
import { QualityPage } from "./QualityPage";

// Admins run and publish; pathologists mark golden cases and read the results.
const DESIGNERS = ["admin", "pathologist"] as const;

export const feature: Feature = {
  name: "quality",
  routes: [
    { path: "studio/workflows/:slug/quality", element: <QualityPage />, roles: DESIGNERS },
    { path: "studio/workflows/:slug/quality/runs/:id", element: <QualityPage />, roles: DESIGNERS },
  ],
  nav: [],
};
