// What a feature folder (runs/, studio/, review/, …) gives the app: its screens, its header
// navigation entries and, for some roles, the start page. Each folder exports one `feature`
// from `<folder>/feature.tsx`; src/app/routes.tsx finds them all, so adding a screen never
// edits a shared component.
import type { ReactNode } from "react";
import type { Role } from "../api/models";
import type { MessageKey } from "../i18n";

export const ALL_ROLES: readonly Role[] = [
  "admin",
  "pathologist",
  "clinician",
  "integration",
  "model_team",
];

export interface FeatureRoute {
  /** Under /app/, without the leading slash: "runs/:id". */
  path: string;
  element: ReactNode;
  /** Who may open it (default: every role); others see a "not for your role" page. */
  roles?: readonly Role[];
}

export interface NavEntry {
  /** Under /app/: "/runs". */
  to: string;
  label: MessageKey;
  roles: readonly Role[];
  /** Position in the header, lowest first. */
  order: number;
}

export interface StartPage {
  to: string;
  roles: readonly Role[];
  /** When several features offer a role a start page, the lowest wins. */
  priority: number;
}

export interface Feature {
  name: string;
  routes: readonly FeatureRoute[];
  nav: readonly NavEntry[];
  start?: StartPage;
}
