import "./portal.css";
import type { Feature } from "../app/feature";
import { PortalCaseRoute, PortalSearchPage } from "./PortalPage";

// Who finds reports by accession or patient ID (the policy's portal.search).
const READERS = ["clinician", "pathologist", "admin"] as const;

export const feature: Feature = {
  name: "portal",
  routes: [
    { path: "portal", element: <PortalSearchPage />, roles: READERS },
    { path: "portal/cases/:caseId", element: <PortalCaseRoute />, roles: READERS },
  ],
  nav: [{ to: "/portal", label: "nav.portal", roles: READERS, order: 20 }],
  // Clinicians come here for reports.
  start: { to: "/portal", roles: ["clinician"], priority: 10 },
};
