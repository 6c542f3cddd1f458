// The catalog's queries and changes (TanStack Query over the generated client).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { dataOf, useApi } from "../api/client";
import type { CatalogEntry } from "./types";

export type EntryValues = Pick<
  CatalogEntry,
  | "name"
  | "protocol"
  | "base_url"
  | "model_name"
  | "secret_ref"
  | "timeout_s"
  | "max_attempts"
  | "outputs"
>;

const ENTRIES = ["catalog", "entries"] as const;

export function useCatalogEntries() {
  const api = useApi();
  return useQuery({
    queryKey: ENTRIES,
    queryFn: async ({ signal }) =>
      dataOf(await api.GET("/api/v1/catalog/endpoints/", { params: { query: { limit: 500 } }, signal }))
        .results,
  });
}

export function useProtocols() {
  const api = useApi();
  return useQuery({
    queryKey: ["catalog", "protocols"],
    queryFn: async ({ signal }) => dataOf(await api.GET("/api/v1/catalog/protocols/", { signal })),
    staleTime: Infinity,
  });
}

export function useUsedBy(slug: string) {
  const api = useApi();
  return useQuery({
    queryKey: ["catalog", "used-by", slug],
    queryFn: async ({ signal }) =>
      dataOf(
        await api.GET("/api/v1/catalog/endpoints/{slug}/used-by/", {
          params: { path: { slug } },
          signal,
        }),
      ),
  });
}

export function useRegisterEntry() {
  const api = useApi();
  const queries = useQueryClient();
  return useMutation({
    mutationFn: async (body: EntryValues & { slug: string }) =>
      dataOf(
        await api.POST("/api/v1/catalog/endpoints/", {
          body: body as CatalogEntry,
        }),
      ),
    onSuccess: () => queries.invalidateQueries({ queryKey: ENTRIES }),
  });
}

export function useUpdateEntry(slug: string) {
  const api = useApi();
  const queries = useQueryClient();
  return useMutation({
    mutationFn: async (body: Partial<EntryValues>) =>
      dataOf(
        await api.PATCH("/api/v1/catalog/endpoints/{slug}/", {
          params: { path: { slug } },
          body,
        }),
      ),
    onSuccess: () => queries.invalidateQueries({ queryKey: ENTRIES }),
  });
}

export function useSetEnabled(slug: string) {
  const api = useApi();
  const queries = useQueryClient();
  return useMutation({
    mutationFn: async (enabled: boolean) => {
      const options = { params: { path: { slug } } };
      return dataOf(
        enabled
          ? await api.POST("/api/v1/catalog/endpoints/{slug}/enable/", options)
          : await api.POST("/api/v1/catalog/endpoints/{slug}/disable/", options),
      );
    },
    onSuccess: () => queries.invalidateQueries({ queryKey: ENTRIES }),
  });
}

export function useTestCall(slug: string) {
  const api = useApi();
  return useMutation({
    mutationFn: async (body: { request: unknown; case: unknown }) =>
      dataOf(
        await api.POST("/api/v1/catalog/endpoints/{slug}/test-call/", {
          params: { path: { slug } },
          body: body as { request: Record<string, never>; case?: Record<string, never> },
        }),
      ),
  });
}
