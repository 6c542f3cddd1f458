import "./review.css";
import type { Feature } from "../app/feature";
import { CockpitRoute } from "./CockpitPage";
import { QueuePage } from "./QueuePage";

// Reviewing and signing is the pathologist's work (the permission policy's report.review and
// report.sign); their start page is the queue.
const REVIEWERS = ["pathologist"] as const;

export const feature: Feature = {
  name: "review",
  routes: [
    { path: "review", element: <QueuePage />, roles: REVIEWERS },
    { path: "review/:reportId", element: <CockpitRoute />, roles: REVIEWERS },
  ],
  nav: [{ to: "/review", label: "nav.review", roles: REVIEWERS, order: 10 }],
  start: { to: "/review", roles: REVIEWERS, priority: 10 },
};
