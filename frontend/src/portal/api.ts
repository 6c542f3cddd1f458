// The portal's calls: search by accession or patient ID, a case's report versions.
import { useQuery } from "@tanstack/react-query";
import { dataOf, useApi } from "../api/client";
import type { components } from "../api/schema";

export type PortalCase = components["schemas"]["PortalCase"];
export type CaseReports = components["schemas"]["CaseReports"];
export type ReportVersion = components["schemas"]["ReportVersion"];

export function useSearch(q: string) {
  const api = useApi();
  return useQuery({
    queryKey: ["portal", "search", q],
    enabled: q.trim() !== "",
    queryFn: async ({ signal }) =>
      dataOf(await api.GET("/api/v1/portal/search", { params: { query: { q } }, signal })),
  });
}

export function useCaseReports(id: number) {
  const api = useApi();
  return useQuery({
    queryKey: ["portal", "case", id],
    queryFn: async ({ signal }) =>
      dataOf(
        await api.GET("/api/v1/portal/cases/{id}/reports", { params: { path: { id } }, signal }),
      ),
  });
}
