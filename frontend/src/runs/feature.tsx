import { ALL_ROLES } from "../app/feature";
import type { Feature } from "../app/feature";
import { RunDetailRoute } from "./RunDetailPage";
import { RunsPage } from "./RunsPage";

export const feature: Feature = {
  name: "runs",
  routes: [
    { path: "runs", element: <RunsPage /> },
    { path: "runs/:id", element: <RunDetailRoute /> },
  ],
  nav: [{ to: "/runs", label: "nav.runs", roles: ALL_ROLES, order: 50 }],
  // Everyone's start page until their own screen exists.
  start: { to: "/runs", roles: ALL_ROLES, priority: 100 },
};
