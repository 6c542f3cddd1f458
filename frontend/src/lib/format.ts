// Pure formatting helpers (no React, no globals).
import type { Run } from "../api/models";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

export const NO_VALUE = "—";

/**
 * Compact, language-neutral duration: "41 ms", "1.5 s", "12 s", "2 min 5 s",
 * "1 h 3 min". Null, negative or non-finite input gives "—".
 */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return NO_VALUE;
  if (ms < SECOND) return `${Math.round(ms)} ms`;
  if (ms < 10 * SECOND) {
    const tenths = Math.floor(ms / 100) / 10;
    return `${tenths.toFixed(1)} s`;
  }
  if (ms < MINUTE) return `${Math.floor(ms / SECOND)} s`;
  if (ms < HOUR) {
    const minutes = Math.floor(ms / MINUTE);
    const seconds = Math.floor((ms % MINUTE) / SECOND);
    return seconds > 0 ? `${minutes} min ${seconds} s` : `${minutes} min`;
  }
  const hours = Math.floor(ms / HOUR);
  const minutes = Math.floor((ms % HOUR) / MINUTE);
  return minutes > 0 ? `${hours} h ${minutes} min` : `${hours} h`;
}

function parseTime(iso: string | null): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

/**
 * How long a run took: finished − started; for a run still going, now − started.
 * Null when it has not started (or the timestamps are unusable).
 */
export function runDurationMs(
  run: Pick<Run, "started_at" | "finished_at">,
  nowMs: number,
): number | null {
  const started = parseTime(run.started_at);
  if (started === null) return null;
  const finished = parseTime(run.finished_at);
  const end = finished ?? nowMs;
  return Math.max(0, end - started);
}

/** Date and time in the reader's locale and time zone ("—" when unparseable). */
export function formatDateTime(iso: string | null, locale: string, timeZone?: string): string {
  const t = parseTime(iso);
  if (t === null) return NO_VALUE;
  const options: Intl.DateTimeFormatOptions = {
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hour12: false,
  };
  if (timeZone) options.timeZone = timeZone;
  return new Intl.DateTimeFormat(locale, options).format(new Date(t));
}
