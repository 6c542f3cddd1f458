import type { Feature } from "../app/feature";
import { EditorPage } from "./editor/EditorPage";
import { WorkflowsPage } from "./WorkflowsPage";

// Admins build; pathologists may read designs (the API lets them).
const DESIGNERS = ["admin", "pathologist"] as const;

export const feature: Feature = {
  name: "studio",
  routes: [
    { path: "studio/workflows", element: <WorkflowsPage />, roles: DESIGNERS },
    { path: "studio/workflows/:slug", element: <EditorPage />, roles: DESIGNERS },
  ],
  nav: [{ to: "/studio/workflows", label: "nav.workflows", roles: ["admin"], order: 10 }],
  start: { to: "/studio/workflows", roles: ["admin"], priority: 10 },
};
