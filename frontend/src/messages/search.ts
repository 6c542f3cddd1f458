// The message console's pure parts: the URL ↔ search state, the query each API takes, raw HL7
// split into segment lines and the parsed structure made safe to show.

export type Tab = "inbound" | "outbound";

export const PAGE_SIZE = 25;

export const INBOUND_STATUSES = ["received", "processed", "error", "rejected", "failed"] as const;
export const OUTBOUND_STATUSES = [
  "queued",
  "sending",
  "delivered",
  "failed",
  "stopped",
  "withdrawn",
] as const;

/** What the search form holds; empty strings mean "any". Dates are YYYY-MM-DD. */
export interface Search {
  tab: Tab;
  accession: string;
  mrn: string;
  controlId: string;
  status: string;
  /** Outbound only: a destination's slug. */
  destination: string;
  from: string;
  to: string;
  page: number;
}

export const EMPTY_SEARCH: Search = {
  tab: "inbound",
  accession: "",
  mrn: "",
  controlId: "",
  status: "",
  destination: "",
  from: "",
  to: "",
  page: 1,
};

// Search field ↔ URL parameter name (short names keep shared links readable).
const URL_NAMES = [
  ["accession", "q"],
  ["mrn", "mrn"],
  ["controlId", "cid"],
  ["status", "status"],
  ["destination", "dest"],
  ["from", "from"],
  ["to", "to"],
] as const;

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function statusesOf(tab: Tab): readonly string[] {
  return tab === "inbound" ? INBOUND_STATUSES : OUTBOUND_STATUSES;
}

/** The search a URL's query string describes; unknown or malformed values are dropped. */
export function searchFromParams(params: URLSearchParams): Search {
  const tab: Tab = params.get("tab") === "outbound" ? "outbound" : "inbound";
  const search: Search = { ...EMPTY_SEARCH, tab };
  for (const [field, name] of URL_NAMES) {
    search[field] = (params.get(name) ?? "").trim();
  }
  if (search.status && !statusesOf(tab).includes(search.status)) search.status = "";
  if (tab !== "outbound") search.destination = "";
  if (search.from && !DATE.test(search.from)) search.from = "";
  if (search.to && !DATE.test(search.to)) search.to = "";
  const page = Number(params.get("page"));
  search.page = Number.isSafeInteger(page) && page > 1 ? page : 1;
  return search;
}

/** The query string of a search: only what is set, so the default search is "?tab=inbound". */
export function paramsFromSearch(search: Search): URLSearchParams {
  const params = new URLSearchParams({ tab: search.tab });
  for (const [field, name] of URL_NAMES) {
    const value = search[field].trim();
    if (value) params.set(name, value);
  }
  if (search.page > 1) params.set("page", String(search.page));
  return params;
}

/** The day after a YYYY-MM-DD date, so "to" includes the whole day it names. */
export function nextDay(date: string): string {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  const next = new Date(Date.UTC(y, m - 1, d + 1));
  return next.toISOString().slice(0, 10);
}

/** A local calendar day's start as an ISO date-time with the browser's UTC offset. */
export function startOfLocalDay(date: string, offsetMinutes: number): string {
  const sign = offsetMinutes <= 0 ? "+" : "-";
  const abs = Math.abs(offsetMinutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, "0");
  const mm = String(abs % 60).padStart(2, "0");
  return `${date}T00:00:00${sign}${hh}:${mm}`;
}

export type InboundStatus = (typeof INBOUND_STATUSES)[number];
export type OutboundStatus = (typeof OUTBOUND_STATUSES)[number];

/** Whether `value` is one of `choices` (a status the API's filter takes). */
function isOneOf<T extends string>(value: string, choices: readonly T[]): value is T {
  return (choices as readonly string[]).includes(value);
}

export interface InboundQuery {
  limit: number;
  offset: number;
  accession?: string;
  mrn?: string;
  control_id?: string;
  status?: InboundStatus;
  received_after?: string;
  received_before?: string;
}

export interface OutboundQuery {
  limit: number;
  offset: number;
  accession?: string;
  mrn?: string;
  control_id?: string;
  status?: OutboundStatus;
  destination?: string;
  since?: string;
  until?: string;
}

function common(search: Search) {
  const query: { limit: number; offset: number } & Record<string, string | number> = {
    limit: PAGE_SIZE,
    offset: (search.page - 1) * PAGE_SIZE,
  };
  if (search.accession) query.accession = search.accession;
  if (search.mrn) query.mrn = search.mrn;
  if (search.controlId) query.control_id = search.controlId;
  return query;
}

/** The inbound API's query: the date range as [from 00:00, day after "to" 00:00) local time
 * (`offsetMinutes` is Date#getTimezoneOffset: UTC−local, in minutes). */
export function inboundQuery(search: Search, offsetMinutes: number): InboundQuery {
  const query: InboundQuery = common(search);
  if (isOneOf(search.status, INBOUND_STATUSES)) query.status = search.status;
  if (search.from) query.received_after = startOfLocalDay(search.from, offsetMinutes);
  if (search.to) query.received_before = startOfLocalDay(nextDay(search.to), offsetMinutes);
  return query;
}

/** The deliveries API's query: its since/until take dates and include both ends. */
export function outboundQuery(search: Search): OutboundQuery {
  const query: OutboundQuery = common(search);
  if (isOneOf(search.status, OUTBOUND_STATUSES)) query.status = search.status;
  if (search.destination) query.destination = search.destination;
  if (search.from) query.since = search.from;
  if (search.to) query.until = search.to;
  return query;
}

/** How many pages `count` rows fill (at least one, so "page 1 of 1" reads right when empty). */
export function pageCount(count: number): number {
  return Math.max(1, Math.ceil(count / PAGE_SIZE));
}

// MLLP framing bytes: start block (VT) and end block (FS).
const VT = String.fromCharCode(0x0b);
const FS = String.fromCharCode(0x1c);

/** Raw HL7 as one line per segment: segments end in CR (HL7), CRLF or LF; MLLP framing
 * bytes (VT, FS) are dropped, and trailing empty lines too. */
export function hl7Segments(raw: string): string[] {
  const lines = raw
    .replaceAll(VT, "")
    .replaceAll(FS, "")
    .split(/\r\n|\r|\n/)
    .map((line) => line.replace(/\s+$/, ""));
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

export interface ParsedSegment {
  segment: string;
  fields: [string, string][];
}

/** The API's parsed structure ([{segment, fields: {"PID-3": "..."}}]) as rows to render;
 * null when the message was withheld, unreadable or not HL7 (e.g. FHIR JSON). */
export function parsedSegments(parsed: unknown): ParsedSegment[] | null {
  if (!Array.isArray(parsed)) return null;
  const out: ParsedSegment[] = [];
  for (const item of parsed as unknown[]) {
    if (typeof item !== "object" || item === null) return null;
    const { segment, fields } = item as { segment?: unknown; fields?: unknown };
    if (typeof segment !== "string" || typeof fields !== "object" || fields === null) return null;
    out.push({
      segment,
      fields: Object.entries(fields as Record<string, unknown>).map(([name, value]) => [
        name,
        typeof value === "string" ? value : JSON.stringify(value),
      ]),
    });
  }
  return out;
}

/** An age in seconds as "45 s", "12 min", "3 h 5 min" or "2 d 4 h" (null → "—"). */
export function formatAge(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "—";
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 24) return min % 60 ? `${h} h ${min % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

export function inboundPath(id: number): string {
  return `/messages/inbound/${id}`;
}

export function outboundPath(id: number): string {
  return `/messages/outbound/${id}`;
}

/** The id of a ":id" URL part, or null when it is not a positive whole number. */
export function parseId(param: string | undefined): number | null {
  if (!param || !/^\d+$/.test(param)) return null;
  const id = Number(param);
  return Number.isSafeInteger(id) && id > 0 ? id : null;
}
