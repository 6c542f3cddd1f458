// What the runs screens share: the states of something loaded (and kept fresh) by a query.
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

/** The parts of a TanStack query that decide what a screen shows. */
export interface QueryView<Data> {
  data: Data | undefined;
  error: unknown;
  dataUpdatedAt: number;
  isFetching: boolean;
}

/** A query as a load state: its data when it has some (with the last refresh's error noted),
 * else loading, the error, or on the way to sign in. A retry after an error shows loading. */
export function loadStateOf<Data, Ready>(
  query: QueryView<Data>,
  ready: (data: Data) => Ready,
): LoadState<Ready> {
  const shown: LoadState<Ready> =
    query.data === undefined
      ? { kind: "loading" }
      : { kind: "ready", fetchedAt: query.dataUpdatedAt, refreshError: null, ...ready(query.data) };
  if (!query.error) return shown;
  if (shown.kind === "loading" && query.isFetching && !isAuthFailure(query.error)) return shown;
  return failedLoad(shown, query.error);
}
