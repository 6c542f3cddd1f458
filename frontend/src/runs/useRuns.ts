// Loads the run list and keeps it fresh while anything is queued or running.
import { useQuery } from "@tanstack/react-query";
import { dataOf, useApi } from "../api/client";
import type { Run } from "../api/models";
import { usePollMs } from "../app/settings";
import { POLL_INTERVAL_MS, shouldPoll } from "../lib/status";
import { isAuthFailure, loadStateOf } from "./loadState";
import type { LoadState } from "./loadState";

export type RunsState = LoadState<{ runs: Run[]; count: number }>;

export function useRuns(limit = 50) {
  const api = useApi();
  const pollMs = usePollMs(POLL_INTERVAL_MS);
  const query = useQuery({
    queryKey: ["runs", { limit }],
    queryFn: async ({ signal }) =>
      dataOf(await api.GET("/api/v1/runs/", { params: { query: { limit } }, signal })),
    // A failed refresh keeps the list shown, so a list with active runs keeps trying.
    refetchInterval: (q) =>
      !isAuthFailure(q.state.error) && q.state.data && shouldPoll(q.state.data.results)
        ? pollMs
        : false,
  });
  const state: RunsState = loadStateOf(query, (data) => ({
    runs: data.results,
    count: data.count,
  }));
  return { state, reload: () => void query.refetch() };
}
