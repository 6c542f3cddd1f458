// The dashboard's data: one query per figure for the filters in the URL (TanStack Query).
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { dataOf, useApi } from "../api/client";
import type { Api } from "../api/client";
import type { components } from "../api/schema";
import type { Bucket, Filters } from "./filters";

type Schemas = components["schemas"];
export type Turnaround = Schemas["Turnaround"];
export type Throughput = Schemas["Throughput"];
export type Queue = Schemas["Queue"];
export type Agreement = Schemas["Agreement"];
export type Failures = Schemas["Failures"];

interface Query {
  from: string;
  to: string;
  case_type?: string;
  bucket?: Bucket;
}

/** The JSON answer (the client asks for JSON; the same operations also answer CSV, which the
 * dashboard downloads through plain links). */
function json<T extends object>(answer: T | string): T {
  if (typeof answer === "string") throw new Error("the server answered CSV, not JSON");
  return answer;
}

type Fetch<T> = (api: Api, query: Query, signal: AbortSignal) => Promise<T>;

const FIGURES: {
  turnaround: Fetch<Turnaround>;
  throughput: Fetch<Throughput>;
  queue: Fetch<Queue>;
  agreement: Fetch<Agreement>;
  failures: Fetch<Failures>;
} = {
  turnaround: async (api, query, signal) =>
    json(dataOf(await api.GET("/api/v1/analytics/turnaround", { params: { query }, signal }))),
  throughput: async (api, query, signal) =>
    json(dataOf(await api.GET("/api/v1/analytics/throughput", { params: { query }, signal }))),
  queue: async (api, query, signal) =>
    json(dataOf(await api.GET("/api/v1/analytics/queue", { params: { query }, signal }))),
  agreement: async (api, query, signal) =>
    json(dataOf(await api.GET("/api/v1/analytics/agreement", { params: { query }, signal }))),
  failures: async (api, query, signal) =>
    json(dataOf(await api.GET("/api/v1/analytics/failures", { params: { query }, signal }))),
};

export type Figure = keyof typeof FIGURES;

/** One figure for ``filters`` (the previous answer stays shown while the next loads). */
export function useFigure<F extends Figure>(figure: F, filters: Filters) {
  const api = useApi();
  const query: Query = { from: filters.from, to: filters.to };
  if (filters.caseType) query.case_type = filters.caseType;
  if (figure === "agreement") query.bucket = filters.bucket;
  const fetchFigure = FIGURES[figure] as Fetch<Awaited<ReturnType<(typeof FIGURES)[F]>>>;
  return useQuery({
    queryKey: ["analytics", figure, query],
    placeholderData: keepPreviousData,
    queryFn: ({ signal }) => fetchFigure(api, query, signal),
  });
}

export function useCaseTypes() {
  const api = useApi();
  return useQuery({
    queryKey: ["analytics", "case-types"],
    queryFn: async ({ signal }) =>
      dataOf(await api.GET("/api/v1/analytics/case-types", { signal })).case_types,
  });
}
