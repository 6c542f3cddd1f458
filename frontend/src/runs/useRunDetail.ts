// Loads one run and, while it is queued or running, polls its progress feed every second;
// when the feed shows a change, the detail (with inputs and outputs) is fetched again.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useRef } from "react";
import { dataOf, useApi } from "../api/client";
import type { Api } from "../api/client";
import type { RunDetail } from "../api/models";
import { usePollMs } from "../app/settings";
import { isActiveRunStatus } from "../lib/status";
import { isAuthFailure, loadStateOf, messageOf } from "./loadState";
import type { LoadState } from "./loadState";
import { cursorOf, progressChanges } from "./progress";

export const DETAIL_POLL_MS = 1000;

export type RunDetailState = LoadState<{ run: RunDetail }>;

export const runKey = (id: number) => ["run", id] as const;

export async function fetchRun(api: Api, id: number, signal?: AbortSignal): Promise<RunDetail> {
  return dataOf(await api.GET("/api/v1/runs/{id}/", { params: { path: { id: String(id) } }, signal }));
}

export function useRunDetail(id: number) {
  const api = useApi();
  const queryClient = useQueryClient();
  const pollMs = usePollMs(DETAIL_POLL_MS);
  // The progress cursor: the newest checkpoint seen, reset when a fresh detail is shown.
  const cursor = useRef<string | null>(null);
  // Bumped when an action's answer is shown: a poll that started before it must not undo it.
  const shownByAction = useRef(0);

  const detail = useQuery({
    queryKey: runKey(id),
    queryFn: async ({ signal }) => {
      const run = await fetchRun(api, id, signal);
      cursor.current = cursorOf(run);
      return run;
    },
  });
  const active = detail.data !== undefined && isActiveRunStatus(detail.data.status);

  const progress = useQuery({
    queryKey: [...runKey(id), "progress"],
    enabled: active,
    refetchInterval: (q) => (isAuthFailure(q.state.error) ? false : pollMs),
    queryFn: async ({ signal }) => {
      const generation = shownByAction.current;
      const shown = queryClient.getQueryData<RunDetail>(runKey(id));
      const since = cursor.current ?? (shown ? cursorOf(shown) : null);
      const answer = dataOf(
        await api.GET("/api/v1/runs/{id}/progress/", {
          params: { path: { id: String(id) }, query: since ? { since } : {} },
          signal,
        }),
      );
      if (shown && progressChanges(shown, answer)) {
        const fresh = await fetchRun(api, id, signal);
        // An action's answer shown meanwhile (cancel) wins over this poll.
        if (signal.aborted || generation !== shownByAction.current) return answer;
        cursor.current = cursorOf(fresh);
        queryClient.setQueryData(runKey(id), fresh);
      } else if (answer.cursor) {
        cursor.current = answer.cursor;
      }
      return answer;
    },
  });

  let state: RunDetailState = loadStateOf(detail, (run) => ({ run }));
  if (state.kind === "ready" && active && progress.error) {
    state = isAuthFailure(progress.error)
      ? { kind: "redirecting" }
      : { ...state, refreshError: messageOf(progress.error) };
  }

  /** Show a run an action returned (and follow it live again if it is active). */
  const replace = useCallback(
    (run: RunDetail) => {
      shownByAction.current += 1;
      cursor.current = cursorOf(run);
      queryClient.setQueryData(runKey(id), run);
    },
    [queryClient, id],
  );

  return { state, replace, reload: () => void detail.refetch() };
}
