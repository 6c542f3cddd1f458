// Release safety's reads and changes (TanStack Query over the generated client).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { dataOf, useApi } from "../api/client";
import type { components } from "../api/schema";

type Schemas = components["schemas"];
export type GoldenCase = Schemas["GoldenCaseShape"];
export type Tolerance = Schemas["ToleranceShape"];
export type ShadowRun = Schemas["ShadowRunShape"];
export type ShadowRunDetail = Schemas["ShadowRunDetailShape"];
export type ShadowCase = Schemas["ShadowCaseShape"];
export type Disagreement = Schemas["GoldenDisagreementShape"];
export type Gate = Schemas["GateShape"];
export type GateRefusal = Schemas["GoldenGateRefusalShape"];

export const qualityKeys = {
  all: (slug: string) => ["quality", slug] as const,
  golden: (slug: string) => ["quality", slug, "golden"] as const,
  tolerances: (slug: string) => ["quality", slug, "tolerances"] as const,
  shadowRuns: (slug: string) => ["quality", slug, "shadow-runs"] as const,
  gates: (slug: string) => ["quality", slug, "gates"] as const,
  shadowRun: (id: number) => ["quality", "shadow-run", id] as const,
  settings: ["quality", "settings"] as const,
};

const POLL_MS = 1000;

export function useGoldenCases(slug: string) {
  const api = useApi();
  return useQuery({
    queryKey: qualityKeys.golden(slug),
    queryFn: async ({ signal }) =>
      dataOf(
        await api.GET("/api/v1/workflows/{slug}/golden-cases", { params: { path: { slug } }, signal }),
      ),
  });
}

export function useTolerances(slug: string) {
  const api = useApi();
  return useQuery({
    queryKey: qualityKeys.tolerances(slug),
    queryFn: async ({ signal }) =>
      dataOf(
        await api.GET("/api/v1/workflows/{slug}/tolerances", { params: { path: { slug } }, signal }),
      ),
  });
}

export function useShadowRuns(slug: string) {
  const api = useApi();
  return useQuery({
    queryKey: qualityKeys.shadowRuns(slug),
    queryFn: async ({ signal }) =>
      dataOf(
        await api.GET("/api/v1/workflows/{slug}/shadow-runs", { params: { path: { slug } }, signal }),
      ),
    refetchInterval: (query) =>
      query.state.data?.some((r) => r.status === "queued" || r.status === "running") ? POLL_MS : false,
  });
}

export function useShadowRun(id: number | null) {
  const api = useApi();
  return useQuery({
    queryKey: qualityKeys.shadowRun(id ?? 0),
    enabled: id !== null,
    queryFn: async ({ signal }) =>
      dataOf(
        await api.GET("/api/v1/quality/shadow-runs/{id}", { params: { path: { id: id! } }, signal }),
      ),
    refetchInterval: (query) => (query.state.data && query.state.data.status === "finished" ? false : POLL_MS),
  });
}

export function useGates(slug: string) {
  const api = useApi();
  return useQuery({
    queryKey: qualityKeys.gates(slug),
    queryFn: async ({ signal }) =>
      dataOf(
        await api.GET("/api/v1/workflows/{slug}/publish-gates", { params: { path: { slug } }, signal }),
      ),
  });
}

export function useThreshold() {
  const api = useApi();
  return useQuery({
    queryKey: qualityKeys.settings,
    queryFn: async ({ signal }) => dataOf(await api.GET("/api/v1/quality/settings", { signal })),
  });
}

function useInvalidate(slug: string) {
  const queries = useQueryClient();
  return () => queries.invalidateQueries({ queryKey: qualityKeys.all(slug) });
}

export function useMarkGolden(slug: string) {
  const api = useApi();
  const invalidate = useInvalidate(slug);
  return useMutation({
    mutationFn: async (body: { accession: string; note: string }) =>
      dataOf(await api.POST("/api/v1/workflows/{slug}/golden-cases", { params: { path: { slug } }, body })),
    onSuccess: invalidate,
  });
}

export function useUnmarkGolden(slug: string) {
  const api = useApi();
  const invalidate = useInvalidate(slug);
  return useMutation({
    mutationFn: async (caseId: number) => {
      // A failed answer is thrown by the client's middleware.
      await api.DELETE("/api/v1/workflows/{slug}/golden-cases/{case}", {
        params: { path: { slug, case: caseId } },
      });
    },
    onSuccess: invalidate,
  });
}

export function useSetTolerance(slug: string) {
  const api = useApi();
  const invalidate = useInvalidate(slug);
  return useMutation({
    mutationFn: async ({ element, tolerance }: { element: string; tolerance: number | null }) =>
      dataOf(
        await api.PUT("/api/v1/workflows/{slug}/tolerances/{element}", {
          params: { path: { slug, element } },
          body: { tolerance },
        }),
      ),
    onSuccess: invalidate,
  });
}

export function useSetThreshold() {
  const api = useApi();
  const queries = useQueryClient();
  return useMutation({
    mutationFn: async (golden_threshold: number) =>
      dataOf(await api.PUT("/api/v1/quality/settings", { body: { golden_threshold } })),
    onSuccess: () => queries.invalidateQueries({ queryKey: qualityKeys.settings }),
  });
}

export interface StartShadow {
  source: "golden" | "recent";
  version?: number;
  case_type?: string;
  limit?: number;
}

export function useStartShadowRun(slug: string) {
  const api = useApi();
  const invalidate = useInvalidate(slug);
  return useMutation({
    mutationFn: async (body: StartShadow) =>
      dataOf(await api.POST("/api/v1/workflows/{slug}/shadow-runs", { params: { path: { slug } }, body })),
    onSuccess: invalidate,
  });
}

export function usePublishChecked(slug: string) {
  const api = useApi();
  const queries = useQueryClient();
  return useMutation({
    mutationFn: async (body: { note: string; override_reason: string }) =>
      dataOf(await api.POST("/api/v1/workflows/{slug}/publish", { params: { path: { slug } }, body })),
    onSettled: () => queries.invalidateQueries({ queryKey: ["workflows", slug] }).then(() =>
      queries.invalidateQueries({ queryKey: qualityKeys.all(slug) }),
    ),
  });
}
