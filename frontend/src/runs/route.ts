// Hash routes inside /app/ (Django serves one page): "#/" the runs list, "#/runs/7" a run.
import { useEffect, useState } from "react";

export type Route = { kind: "list" } | { kind: "run"; id: number };

export function parseHash(hash: string): Route {
  const match = /^#\/runs\/(\d+)\/?$/.exec(hash);
  if (match?.[1]) {
    const id = Number(match[1]);
    if (Number.isSafeInteger(id) && id > 0) return { kind: "run", id };
  }
  return { kind: "list" };
}

export function runHref(id: number): string {
  return `#/runs/${id}`;
}

export const LIST_HREF = "#/";

/** The current hash route, following back/forward and link clicks. */
export function useHashRoute(): Route {
  const [route, setRoute] = useState<Route>(() => parseHash(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(window.location.hash));
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}
