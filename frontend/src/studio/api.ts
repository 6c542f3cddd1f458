// The studio's reads, through TanStack Query (cached per workflow; invalidated after changes).
import { useQuery } from "@tanstack/react-query";
import { dataOf, useApi } from "../api/client";
import type { components } from "../api/schema";
import { typeKey } from "../lib/graph";
import type { NodeTypeInfo } from "../lib/graph";

type Schemas = components["schemas"];
export type WorkflowSummary = Schemas["WorkflowSummaryShape"];
export type WorkflowDetail = Schemas["WorkflowDetailShape"];
export type Draft = Schemas["DraftShape"];
export type VersionSummary = Schemas["VersionSummaryShape"];
export type VersionDetail = Schemas["VersionDetailShape"];
export type SampleCase = Schemas["SampleCase"];
export type NodeRunResult = Schemas["NodeRunResult"];

export const studioKeys = {
  workflows: ["workflows"] as const,
  workflow: (slug: string) => ["workflows", slug] as const,
  versions: (slug: string) => ["workflows", slug, "versions"] as const,
  nodeTypes: ["node-types"] as const,
};

export function useWorkflows() {
  const api = useApi();
  return useQuery({
    queryKey: studioKeys.workflows,
    queryFn: async ({ signal }) => dataOf(await api.GET("/api/v1/workflows", { signal })),
  });
}

export function useWorkflow(slug: string) {
  const api = useApi();
  return useQuery({
    queryKey: studioKeys.workflow(slug),
    queryFn: async ({ signal }) =>
      dataOf(await api.GET("/api/v1/workflows/{slug}", { params: { path: { slug } }, signal })),
    // The editor holds the working copy; a background refetch must not replace it.
    staleTime: Infinity,
  });
}

export function useVersions(slug: string) {
  const api = useApi();
  return useQuery({
    queryKey: studioKeys.versions(slug),
    queryFn: async ({ signal }) =>
      dataOf(
        await api.GET("/api/v1/workflows/{slug}/versions", { params: { path: { slug } }, signal }),
      ),
  });
}

/** The palette, keyed "name@version". */
export function useNodeTypes() {
  const api = useApi();
  return useQuery({
    queryKey: studioKeys.nodeTypes,
    queryFn: async ({ signal }) => {
      const list = dataOf(await api.GET("/api/v1/node-types", { signal }));
      return new Map<string, NodeTypeInfo>(list.map((t) => [typeKey(t.name, t.version), t]));
    },
    staleTime: Infinity,
  });
}

export function useTemplates() {
  const api = useApi();
  return useQuery({
    queryKey: ["templates", "all"],
    queryFn: async ({ signal }) =>
      dataOf(await api.GET("/api/v1/templates/", { params: { query: { limit: 500 } }, signal })),
  });
}

export function useSampleCases() {
  const api = useApi();
  return useQuery({
    queryKey: ["sample-cases"],
    queryFn: async ({ signal }) => dataOf(await api.GET("/api/v1/sample-cases", { signal })),
    staleTime: Infinity,
  });
}
