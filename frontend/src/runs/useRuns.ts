// Loads the run list and keeps it fresh while anything is queued or running.
import { useEffect, useRef } from "react";
import type { ApiClient } from "../api/client";
import type { Run } from "../api/types";
import { POLL_INTERVAL_MS, shouldPoll } from "../lib/status";
import { effectLoop, failedLoad, isAuthFailure, useLoadState } from "./loadState";
import type { LoadState } from "./loadState";

export type RunsState = LoadState<{ runs: Run[]; count: number }>;

export interface UseRunsOptions {
  limit?: number;
  pollMs?: number;
}

export function useRuns(client: ApiClient, options: UseRunsOptions = {}) {
  const { limit = 50, pollMs = POLL_INTERVAL_MS } = options;
  const { state, setState, generation, reload } = useLoadState<{ runs: Run[]; count: number }>();
  const lastRuns = useRef<Run[] | null>(null);

  useEffect(() => {
    const loop = effectLoop();
    const schedule = () => loop.later(() => void load(), pollMs);

    async function load(): Promise<void> {
      try {
        const data = await client.listRuns(limit, loop.signal);
        if (loop.stopped) return;
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
        if (loop.stopped) return;
        setState((prev) => failedLoad(prev, err));
        if (isAuthFailure(err)) return;
        // A failed refresh of a list that still has active runs keeps trying.
        if (lastRuns.current && shouldPoll(lastRuns.current)) schedule();
      }
    }

    void load();
    return loop.stop;
  }, [client, limit, pollMs, generation, setState]);

  return { state, reload };
}
