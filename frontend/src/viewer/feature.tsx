import type { Feature } from "../app/feature";
import { CaseSlidesRoute } from "./SlidesPage";

export const feature: Feature = {
  name: "viewer",
  // Slides carry the AI overlay (unsigned AI output): the roles the API's slide.view allows.
  routes: [
    { path: "cases/:id/slides", element: <CaseSlidesRoute />, roles: ["admin", "pathologist"] },
  ],
  nav: [],
};
