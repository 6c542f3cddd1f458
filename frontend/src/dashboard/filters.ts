// The dashboard's filters ↔ the URL query string (?from=…&to=…&type=…&bucket=…) and the
// query each analytics API takes. Pure: no React, no fetch.

export type Bucket = "day" | "week";

export interface Filters {
  /** YYYY-MM-DD, inclusive. */
  from: string;
  to: string;
  /** "" means every case type. */
  caseType: string;
  bucket: Bucket;
}

export const DEFAULT_DAYS = 30;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const SLUG = /^[-a-zA-Z0-9_]{1,64}$/;

/** A local calendar day as YYYY-MM-DD. */
export function isoDay(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** ``day`` moved by ``days`` calendar days (computed in UTC, so no DST step skips a day). */
export function addDays(day: string, days: number): string {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  const moved = new Date(Date.UTC(y, m - 1, d + days));
  return moved.toISOString().slice(0, 10);
}

/** Every day from ``from`` to ``to``, inclusive (empty when from is after to). */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let day = from; day <= to && days.length < 400; day = addDays(day, 1)) days.push(day);
  return days;
}

export function defaultFilters(today: Date): Filters {
  const to = isoDay(today);
  return { from: addDays(to, -(DEFAULT_DAYS - 1)), to, caseType: "", bucket: "day" };
}

function validDay(value: string | null): value is string {
  return value !== null && DATE.test(value) && !Number.isNaN(Date.parse(value));
}

/** The filters a URL describes; missing or malformed values fall back to the last 30 days. */
export function filtersFromParams(params: URLSearchParams, today: Date): Filters {
  const fallback = defaultFilters(today);
  const to = validDay(params.get("to")) ? params.get("to")! : fallback.to;
  let from = validDay(params.get("from")) ? params.get("from")! : addDays(to, -(DEFAULT_DAYS - 1));
  if (from > to) from = to;
  const type = params.get("type") ?? "";
  return {
    from,
    to,
    caseType: SLUG.test(type) ? type : "",
    bucket: params.get("bucket") === "week" ? "week" : "day",
  };
}

/** The URL query of the filters (only what differs from "every case type, per day"). */
export function paramsFromFilters(filters: Filters): URLSearchParams {
  const params = new URLSearchParams({ from: filters.from, to: filters.to });
  if (filters.caseType) params.set("type", filters.caseType);
  if (filters.bucket !== "day") params.set("bucket", filters.bucket);
  return params;
}

/** The query the analytics APIs take (their parameter names). */
export function apiQuery(filters: Filters): Record<string, string> {
  const query: Record<string, string> = { from: filters.from, to: filters.to };
  if (filters.caseType) query.case_type = filters.caseType;
  return query;
}

/** The address of one table of a figure as a CSV download. */
export function csvUrl(figure: string, table: string, filters: Filters): string {
  const params = new URLSearchParams(apiQuery(filters));
  if (figure === "agreement") params.set("bucket", filters.bucket);
  params.set("format", "csv");
  params.set("table", table);
  return `/api/v1/analytics/${figure}?${params.toString()}`;
}
