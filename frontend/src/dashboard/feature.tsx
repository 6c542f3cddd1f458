import { Suspense, lazy } from "react";
import type { Role } from "../api/models";
import type { Feature } from "../app/feature";
import { useI18n } from "../i18n";

// The analytics APIs are for the department's admins and pathologists
// (Permission.ANALYTICS_READ in orchestrator/accounts/policy.py).
const DASHBOARD_ROLES: readonly Role[] = ["admin", "pathologist"];

// Its own chunk: ECharts is loaded only by those who open the dashboard.
const DashboardPage = lazy(async () => ({ default: (await import("./DashboardPage")).DashboardPage }));

function Dashboard() {
  const { t } = useI18n();
  return (
    <Suspense
      fallback={
        <p className="state state--loading" role="status">
          {t("dash.loading")}
        </p>
      }
    >
      <DashboardPage />
    </Suspense>
  );
}

export const feature: Feature = {
  name: "dashboard",
  routes: [{ path: "dashboard", element: <Dashboard />, roles: DASHBOARD_ROLES }],
  nav: [{ to: "/dashboard", label: "nav.dashboard", roles: DASHBOARD_ROLES, order: 80 }],
};
