// The designer's queries and changes (TanStack Query over the generated client).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { dataOf, useApi } from "../api/client";
import type { components } from "../api/schema";
import type { Dataset } from "./dataset";
import type { LayoutSpec } from "./layoutSpec";

export type TemplateSummary = components["schemas"]["ReportTemplate"];
export type TemplateVersionDetail = components["schemas"]["TemplateVersionDetail"];
export type TemplateVersionRow = components["schemas"]["TemplateVersion"];
export type LibraryTemplate = components["schemas"]["LibraryTemplate"];

/** The rows of a list answer: the versions list is a plain list although the schema calls it
 * paginated (both shapes are read, so either fix of the schema keeps this working). */
export function listOf<T>(data: unknown): T[] {
  if (Array.isArray(data)) return data as T[];
  return ((data as { results?: T[] } | undefined)?.results ?? []);
}

/** What a draft holds, as the designer edits it. */
export interface Content {
  dataset: Dataset;
  layout_html: string;
  layout_css: string;
  layout_spec: LayoutSpec | null;
}

export function contentOf(version: TemplateVersionDetail): Content {
  return {
    dataset: version.dataset as Dataset,
    layout_html: version.layout_html,
    layout_css: version.layout_css,
    layout_spec: (version.layout_spec ?? null) as LayoutSpec | null,
  };
}

export function useTemplateList() {
  const api = useApi();
  return useQuery({
    queryKey: ["templates"],
    queryFn: async ({ signal }) =>
      dataOf(await api.GET("/api/v1/templates/", { params: { query: { limit: 500 } }, signal }))
        .results,
  });
}

export function useLibrary() {
  const api = useApi();
  return useQuery({
    queryKey: ["template-library"],
    queryFn: async ({ signal }) => dataOf(await api.GET("/api/v1/template-library/", { signal })),
    staleTime: Infinity,
  });
}

export function useCloneLibrary() {
  const api = useApi();
  const queries = useQueryClient();
  return useMutation({
    mutationFn: async (args: { library: string; slug: string; name: string }) =>
      dataOf(
        await api.POST("/api/v1/template-library/{slug}/clone/", {
          params: { path: { slug: args.library } },
          body: { slug: args.slug, name: args.name },
        }),
      ),
    onSuccess: () => queries.invalidateQueries({ queryKey: ["templates"] }),
  });
}

export function useTemplate(slug: string) {
  const api = useApi();
  return useQuery({
    queryKey: ["templates", slug],
    queryFn: async ({ signal }) =>
      dataOf(await api.GET("/api/v1/templates/{slug}/", { params: { path: { slug } }, signal })),
  });
}

export function useVersion(slug: string, number: number | null | undefined) {
  const api = useApi();
  return useQuery({
    queryKey: ["templates", slug, "version", number],
    enabled: typeof number === "number",
    queryFn: async ({ signal }) =>
      dataOf(
        await api.GET("/api/v1/templates/{slug}/versions/{number}/", {
          params: { path: { slug, number: number ?? 0 } },
          signal,
        }),
      ),
  });
}

export function useVersions(slug: string) {
  const api = useApi();
  return useQuery({
    queryKey: ["templates", slug, "versions"],
    queryFn: async ({ signal }) =>
      listOf<TemplateVersionRow>(
        dataOf(
          await api.GET("/api/v1/templates/{slug}/versions/", { params: { path: { slug } }, signal }),
        ),
      ),
  });
}

export function useDiff(slug: string, from: number | null, to: number | null) {
  const api = useApi();
  return useQuery({
    queryKey: ["templates", slug, "diff", from, to],
    enabled: from !== null && to !== null && from !== to,
    queryFn: async ({ signal }) =>
      dataOf(
        await api.GET("/api/v1/templates/{slug}/diff/", {
          params: { path: { slug }, query: { from: from ?? 0, to: to ?? 0 } },
          signal,
        }),
      ),
  });
}

function useInvalidate() {
  const queries = useQueryClient();
  return () => queries.invalidateQueries({ queryKey: ["templates"] }).then(() => undefined);
}

export function useSaveDraft(slug: string) {
  const api = useApi();
  const invalidate = useInvalidate();
  return useMutation({
    mutationFn: async (content: Content) =>
      dataOf(
        await api.PUT("/api/v1/templates/{slug}/draft/", {
          params: { path: { slug } },
          body: content,
        }),
      ),
    onSuccess: invalidate,
  });
}

export function usePublish(slug: string) {
  const api = useApi();
  const invalidate = useInvalidate();
  return useMutation({
    mutationFn: async (number: number) =>
      dataOf(
        await api.POST("/api/v1/templates/{slug}/versions/{number}/publish/", {
          params: { path: { slug, number } },
        }),
      ),
    onSuccess: invalidate,
  });
}

export function useNewDraft(slug: string) {
  const api = useApi();
  const invalidate = useInvalidate();
  return useMutation({
    mutationFn: async (number: number) =>
      dataOf(
        await api.POST("/api/v1/templates/{slug}/versions/{number}/new-draft/", {
          params: { path: { slug, number } },
        }),
      ),
    onSuccess: invalidate,
  });
}
