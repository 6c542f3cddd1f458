// The route table, built from every feature folder's `feature.tsx` (see ./feature.ts).
import { useEffect } from "react";
import { Navigate, useLocation, useNavigate } from "react-router";
import type { RouteObject } from "react-router";
import type { Me, Role } from "../api/models";
import { useI18n } from "../i18n";
import type { Feature, FeatureRoute, NavEntry } from "./feature";
import { NotFound } from "./NotFound";
import { useMe } from "./useMe";

const modules = import.meta.glob<Feature>("../*/feature.tsx", { eager: true, import: "feature" });

export const FEATURES: readonly Feature[] = Object.keys(modules)
  .sort()
  .map((path) => modules[path]!);

/** Header entries the role sees, in order. */
export function navFor(role: Role | undefined, features: readonly Feature[] = FEATURES): NavEntry[] {
  if (!role) return [];
  return features
    .flatMap((f) => f.nav)
    .filter((entry) => entry.roles.includes(role))
    .sort((a, b) => a.order - b.order);
}

/** Where /app/ sends a role: the start page with the lowest priority offered to it. */
export function startPageFor(role: Role, features: readonly Feature[] = FEATURES): string {
  const offers = features
    .flatMap((f) => (f.start ? [f.start] : []))
    .filter((start) => start.roles.includes(role))
    .sort((a, b) => a.priority - b.priority);
  return offers[0]?.to ?? navFor(role, features)[0]?.to ?? "/runs";
}

/** Old bookmarks of the hash routes ("/app/#/runs/7") open the same page at its real URL. */
export function pathOfLegacyHash(hash: string): string | null {
  const match = /^#\/(runs\/\d+)\/?$/.exec(hash);
  return match ? `/${match[1]}` : null;
}

function StartPage() {
  const me = useMe();
  const navigate = useNavigate();
  const { t } = useI18n();
  useEffect(() => {
    const legacy = pathOfLegacyHash(window.location.hash);
    if (legacy) void navigate(legacy, { replace: true });
    else if (me) void navigate(startPageFor(me.role), { replace: true });
  }, [me, navigate]);
  return (
    <p className="state state--loading" role="status">
      {t("page.loading")}
    </p>
  );
}

function Guarded({ route, me }: { route: FeatureRoute; me: Me | undefined }) {
  const { t } = useI18n();
  const location = useLocation();
  if (!route.roles || (me && route.roles.includes(me.role))) return <>{route.element}</>;
  if (!me) {
    return (
      <p className="state state--loading" role="status">
        {t("page.loading")}
      </p>
    );
  }
  return <NotFound path={location.pathname} forbidden />;
}

function GuardedRoute({ route }: { route: FeatureRoute }) {
  const me = useMe();
  return <Guarded route={route} me={me} />;
}

export function buildRoutes(features: readonly Feature[] = FEATURES): RouteObject[] {
  return [
    { index: true, element: <StartPage /> },
    ...features.flatMap((feature) =>
      feature.routes.map((route) => ({
        path: route.path,
        element: <GuardedRoute route={route} />,
      })),
    ),
    { path: "index.html", element: <Navigate to="/" replace /> },
    { path: "*", element: <NotFound /> },
  ];
}
