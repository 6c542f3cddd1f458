// The review feature's calls: the queue, one report, overrides, sign-out (one or a batch),
// recall and amendments. Every answer's type comes from the generated schema.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { dataOf, useApi } from "../api/client";
import type { components } from "../api/schema";

type Schemas = components["schemas"];
export type QueueItem = Schemas["QueueItem"];
export type ReviewDetail = Schemas["ReviewDetail"];
export type ReviewField = Schemas["ReviewField"];
export type Signed = Schemas["Signed"];
export type BatchResult = Schemas["BatchResult"];

export type QueueOrdering = "priority" | "age" | "-age" | "triage" | "-triage" | "case_type";

export interface QueueFilters {
  ordering: QueueOrdering;
  caseType: string;
  priority: "" | "stat" | "urgent" | "routine";
  minTriage: string;
}

export const QUEUE_KEY = ["review", "queue"] as const;
export const reportKey = (id: number) => ["review", "report", id] as const;

export function useQueue(filters: QueueFilters) {
  const api = useApi();
  return useQuery({
    queryKey: [...QUEUE_KEY, filters],
    queryFn: async ({ signal }) => {
      const minTriage = Number(filters.minTriage);
      const query = {
        ordering: filters.ordering,
        ...(filters.caseType ? { case_type: filters.caseType } : {}),
        ...(filters.priority ? { priority: filters.priority } : {}),
        ...(filters.minTriage && Number.isFinite(minTriage) ? { min_triage: minTriage / 100 } : {}),
      };
      return dataOf(await api.GET("/api/v1/review/queue", { params: { query }, signal }));
    },
  });
}

export function useReviewReport(id: number) {
  const api = useApi();
  return useQuery({
    queryKey: reportKey(id),
    queryFn: async ({ signal }) =>
      dataOf(await api.GET("/api/v1/review/reports/{id}", { params: { path: { id } }, signal })),
  });
}

export function useOverride(id: number) {
  const api = useApi();
  const queries = useQueryClient();
  return useMutation({
    mutationFn: async (body: { element: string; value: unknown; reason?: string }) =>
      dataOf(
        await api.POST("/api/v1/review/reports/{id}/fields", {
          params: { path: { id } },
          body: { element: body.element, value: body.value ?? null, reason: body.reason ?? "" },
        }),
      ),
    onSuccess: (detail) => queries.setQueryData(reportKey(id), detail),
  });
}

export function useSignBatch() {
  const api = useApi();
  const queries = useQueryClient();
  return useMutation({
    mutationFn: async ({ reports, password }: { reports: number[]; password: string }) =>
      dataOf(await api.POST("/api/v1/review/sign-batch", { body: { reports, password } })),
    onSuccess: () => queries.invalidateQueries({ queryKey: QUEUE_KEY }),
  });
}

export function useRecall() {
  const api = useApi();
  const queries = useQueryClient();
  return useMutation({
    mutationFn: async (id: number) =>
      dataOf(await api.POST("/api/v1/reports/{id}/recall", { params: { path: { id } } })),
    onSuccess: () => queries.invalidateQueries({ queryKey: QUEUE_KEY }),
  });
}

export interface AmendRequest {
  id: number;
  kind: "amended" | "corrected" | "addendum";
  reason: string;
  changes: Record<string, unknown>;
  password: string;
}

export function useAmend() {
  const api = useApi();
  return useMutation({
    mutationFn: async ({ id, ...body }: AmendRequest) =>
      dataOf(await api.POST("/api/v1/reports/{id}/amend", { params: { path: { id } }, body })),
  });
}
