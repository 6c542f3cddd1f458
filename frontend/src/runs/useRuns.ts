// Loads the run list and keeps it fresh while anything is queued or running.
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError } from "../api/client";
import type { ApiClient } from "../api/client";
import type { Run } from "../api/types";
import { POLL_INTERVAL_MS, shouldPoll } from "../lib/status";

export type RunsState =
  | { kind: "loading" }
  | { kind: "redirecting" }
  | { kind: "error"; message: string }
  | {
      kind: "ready";
      runs: Run[];
      count: number;
      /** Client clock when this list arrived: "now" for runs still going. */
      fetchedAt: number;
      /** Last refresh failed (the list shown is the previous one). */
      refreshError: string | null;
    };

export interface UseRunsOptions {
  limit?: number;
  pollMs?: number;
}

function messageOf(err: unknown): string {
  if (err instanceof Error && err.message) return err.message;
  return String(err);
}

export function useRuns(client: ApiClient, options: UseRunsOptions = {}) {
  const { limit = 50, pollMs = POLL_INTERVAL_MS } = options;
  const [state, setState] = useState<RunsState>({ kind: "loading" });
  const [reloads, setReloads] = useState(0);
  const lastRuns = useRef<Run[] | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;

    const schedule = () => {
      timer = setTimeout(() => void load(), pollMs);
    };

    async function load(): Promise<void> {
      try {
        const data = await client.listRuns(limit, controller.signal);
        if (stopped) return;
        lastRuns.current = data.results;
        setState({
          kind: "ready",
          runs: data.results,
          count: data.count,
          fetchedAt: Date.now(),
          refreshError: null,
        });
        if (shouldPoll(data.results)) schedule();
      } catch (err) {
        if (stopped) return;
        if (err instanceof ApiError && err.isAuthFailure) {
          setState({ kind: "redirecting" });
          return;
        }
        const message = messageOf(err);
        setState((prev) =>
          prev.kind === "ready" ? { ...prev, refreshError: message } : { kind: "error", message },
        );
        // A failed refresh of a list that still has active runs keeps trying.
        if (lastRuns.current && shouldPoll(lastRuns.current)) schedule();
      }
    }

    void load();
    return () => {
      stopped = true;
      controller.abort();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [client, limit, pollMs, reloads]);

  const reload = useCallback(() => {
    setState((prev) => (prev.kind === "error" ? { kind: "loading" } : prev));
    setReloads((n) => n + 1);
  }, []);

  return { state, reload };
}
