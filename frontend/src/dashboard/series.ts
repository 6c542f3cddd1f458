// The analytics answers shaped for the charts: one series per case type over every day of the
// range (days without a row count 0), acceptance rates per model version, box plots of the
// turnaround segments, and durations in words. Pure: no React, no ECharts.

export interface DayRow {
  day: string;
  case_type: string;
}

export interface Series {
  name: string;
  data: (number | null)[];
}

/** One series per case type (sorted), a value for every day; a missing day is ``empty``. */
export function seriesByCaseType<R extends DayRow>(
  rows: readonly R[],
  days: readonly string[],
  value: (row: R) => number | null,
  empty: number | null = 0,
): Series[] {
  const types = [...new Set(rows.map((r) => r.case_type))].sort();
  return types.map((type) => {
    const byDay = new Map(rows.filter((r) => r.case_type === type).map((r) => [r.day, value(r)]));
    return { name: type, data: days.map((day) => (byDay.has(day) ? byDay.get(day)! : empty)) };
  });
}

/** Per day, the sum over case types of ``value`` (the "all case types" line). */
export function totalPerDay<R extends DayRow>(
  rows: readonly R[],
  days: readonly string[],
  value: (row: R) => number,
): number[] {
  return days.map((day) => rows.filter((r) => r.day === day).reduce((n, r) => n + value(r), 0));
}

export interface AgreementRow {
  bucket: string;
  endpoint: string;
  model_version: string;
  accepted: number;
  edited: number;
  cleared: number;
  total: number;
}

/** "endpoint v1": how a model version is named in the legend. */
export function modelLabel(row: { endpoint: string; model_version: string }): string {
  return row.model_version ? `${row.endpoint} v${row.model_version}` : row.endpoint;
}

/** Acceptance rate (%, one decimal) per bucket for each model version, summed over elements;
 * a bucket where the version had no sign-out is null (a gap in the line). */
export function acceptanceSeries(
  rows: readonly AgreementRow[],
): { buckets: string[]; series: Series[] } {
  const buckets = [...new Set(rows.map((r) => r.bucket))].sort();
  const models = [...new Set(rows.map(modelLabel))].sort();
  const series = models.map((name) => ({
    name,
    data: buckets.map((bucket) => {
      const found = rows.filter((r) => r.bucket === bucket && modelLabel(r) === name);
      const total = found.reduce((n, r) => n + r.total, 0);
      const accepted = found.reduce((n, r) => n + r.accepted, 0);
      return total ? Math.round((accepted / total) * 1000) / 10 : null;
    }),
  }));
  return { buckets, series };
}

export interface SegmentRow {
  case_type: string;
  segment: string;
  n: number;
  min: number | null;
  p25: number | null;
  median: number | null;
  p75: number | null;
  max: number | null;
}

export const SEGMENTS = [
  "received_to_draft",
  "draft_to_signed",
  "signed_to_delivered",
  "received_to_signed",
  "received_to_delivered",
] as const;

export interface BoxSeries {
  name: string;
  /** Per segment: [min, p25, median, p75, max] in hours, or null. */
  data: (number[] | null)[];
}

/** Box plot data per case type: [min, p25, median, p75, max] in hours for each segment
 * (null where no case reached both milestones). */
export function boxplotSeries(rows: readonly SegmentRow[]): BoxSeries[] {
  const types = [...new Set(rows.map((r) => r.case_type))].sort();
  return types.map((type) => ({
    name: type,
    data: SEGMENTS.map((segment) => {
      const row = rows.find((r) => r.case_type === type && r.segment === segment);
      if (!row || row.n === 0 || row.min === null) return null;
      return [row.min, row.p25, row.median, row.p75, row.max].map((m) => hours(m));
    }),
  }));
}

function hours(minutes: number | null): number {
  return Math.round(((minutes ?? 0) / 60) * 100) / 100;
}

/** Minutes in words: "45 min", "3 h 05 min", "2 d 4 h"; "—" for none. */
export function formatMinutes(minutes: number | null | undefined): string {
  if (minutes === null || minutes === undefined) return "—";
  const total = Math.round(minutes);
  if (total < 60) return `${total} min`;
  if (total < 24 * 60) {
    return `${Math.floor(total / 60)} h ${String(total % 60).padStart(2, "0")} min`;
  }
  return `${Math.floor(total / 1440)} d ${Math.floor((total % 1440) / 60)} h`;
}

/** A rate 0..1 as a percentage with one decimal. */
export function formatRate(rate: number): string {
  return `${(Math.round(rate * 1000) / 10).toFixed(1)} %`;
}
