// What the runs hooks share: the states of something loaded and kept fresh, and how a failed
// load or refresh changes them.
import { useCallback, useState } from "react";
import { ApiError } from "../api/client";

/** Loading, sent to sign in, or failed before anything arrived. */
export type NotReadyState =
  | { kind: "loading" }
  | { kind: "redirecting" }
  | { kind: "error"; message: string };

/** Not ready yet, or ready with ``Ready``'s fields. */
export type LoadState<Ready> =
  | NotReadyState
  | ({
      kind: "ready";
      /** Client clock when this arrived: "now" for runs still going. */
      fetchedAt: number;
      /** Last refresh failed (what is shown arrived before). */
      refreshError: string | null;
    } & Ready);

export function messageOf(err: unknown): string {
  if (err instanceof Error && err.message) return err.message;
  return String(err);
}

/** Whether ``err`` means the session is gone (the client is already sending the browser to
 * sign in). */
export function isAuthFailure(err: unknown): boolean {
  return err instanceof ApiError && err.isAuthFailure;
}

/** The state after ``err``: redirecting when signed out; else what is shown stays, with the
 * error noted, or the error alone when nothing was shown yet. */
export function failedLoad<Ready>(prev: LoadState<Ready>, err: unknown): LoadState<Ready> {
  if (isAuthFailure(err)) return { kind: "redirecting" };
  const message = messageOf(err);
  return prev.kind === "ready" ? { ...prev, refreshError: message } : { kind: "error", message };
}

/** The state, starting as loading, and a generation that loading effects depend on: ``reload``
 * starts another (back to loading after an error; what is shown stays while it refreshes). */
export function useLoadState<Ready>() {
  const [state, setState] = useState<LoadState<Ready>>({ kind: "loading" });
  const [generation, setGeneration] = useState(0);
  const reload = useCallback(() => {
    setState((prev) => (prev.kind === "error" ? { kind: "loading" } : prev));
    setGeneration((n) => n + 1);
  }, []);
  return { state, setState, generation, setGeneration, reload };
}

/** The plumbing of a loading effect: one abort signal for its requests, at most one pending
 * timer, ``stopped`` once ``stop`` (the effect's cleanup) has run. */
export function effectLoop() {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  return {
    signal: controller.signal,
    get stopped(): boolean {
      return controller.signal.aborted;
    },
    later(work: () => void, ms: number): void {
      timer = setTimeout(work, ms);
    },
    stop: (): void => {
      controller.abort();
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
