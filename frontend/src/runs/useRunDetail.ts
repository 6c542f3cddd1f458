// Loads one run and, while it is queued or running, polls its progress feed every second;
// when the feed shows a change, the detail (with inputs and outputs) is fetched again.
import { useCallback, useEffect, useRef } from "react";
import type { ApiClient } from "../api/client";
import type { RunDetail } from "../api/types";
import { isActiveRunStatus } from "../lib/status";
import { effectLoop, failedLoad, isAuthFailure, useLoadState } from "./loadState";
import type { LoadState } from "./loadState";
import { cursorOf, progressChanges } from "./progress";

export const DETAIL_POLL_MS = 1000;

export type RunDetailState = LoadState<{ run: RunDetail }>;

export function useRunDetail(client: ApiClient, id: number, pollMs: number = DETAIL_POLL_MS) {
  const { state, setState, generation, setGeneration, reload } = useLoadState<{ run: RunDetail }>();
  // The run as an action returned it, shown at once while the effect restarts.
  const given = useRef<RunDetail | null>(null);

  useEffect(() => {
    const loop = effectLoop();
    let run: RunDetail | null = null;
    let cursor: string | null = null;

    const show = (next: RunDetail) => {
      run = next;
      cursor = cursorOf(next);
      setState({ kind: "ready", run: next, fetchedAt: Date.now(), refreshError: null });
    };
    const schedule = () => {
      if (!loop.stopped && run && isActiveRunStatus(run.status)) {
        loop.later(() => void poll(), pollMs);
      }
    };
    const failed = (err: unknown) => {
      if (loop.stopped) return;
      setState((prev) => failedLoad(prev, err));
    };

    async function poll(): Promise<void> {
      try {
        const progress = await client.getRunProgress(id, cursor, loop.signal);
        if (loop.stopped || !run) return;
        if (progressChanges(run, progress)) {
          const fresh = await client.getRun(id, loop.signal);
          if (loop.stopped) return;
          show(fresh);
        } else if (progress.cursor) {
          cursor = progress.cursor;
          setState((prev) => (prev.kind === "ready" ? { ...prev, refreshError: null } : prev));
        }
      } catch (err) {
        failed(err);
        if (isAuthFailure(err)) return;
      }
      schedule();
    }

    async function load(): Promise<void> {
      try {
        const first = given.current ?? (await client.getRun(id, loop.signal));
        given.current = null;
        if (loop.stopped) return;
        show(first);
        schedule();
      } catch (err) {
        failed(err);
      }
    }

    void load();
    return loop.stop;
  }, [client, id, pollMs, generation, setState]);

  /** Show a run an action returned and follow it live again if it is active. */
  const replace = useCallback((run: RunDetail) => {
    given.current = run;
    setGeneration((n) => n + 1);
  }, [setGeneration]);

  return { state, replace, reload };
}
