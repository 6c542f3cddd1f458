// Status → presentation, and the polling rule.
import type { NodeRunStatus, Run, RunStatus } from "../api/models";

export const RUN_STATUSES: readonly RunStatus[] = [
  "queued",
  "running",
  "waiting_review",
  "waiting_render",
  "succeeded",
  "failed",
  "cancelled",
];

export const NODE_RUN_STATUSES: readonly NodeRunStatus[] = [
  "pending",
  "running",
  "succeeded",
  "failed",
  "skipped",
  "cancelled",
  "waiting",
];

const KNOWN = new Set<string>([...RUN_STATUSES, ...NODE_RUN_STATUSES]);

/** CSS classes for a status badge; unknown statuses get a neutral badge. */
export function statusBadgeClass(status: string): string {
  const variant = KNOWN.has(status) ? status.replace(/_/g, "-") : "unknown";
  return `badge badge--${variant}`;
}

/** A run that may still change on its own (so worth polling for): a run waiting for its
 * report to render on the render queue resumes by itself. */
export function isActiveRunStatus(status: string): boolean {
  return status === "queued" || status === "running" || status === "waiting_render";
}

/** Keep polling while any run is queued, running or waiting for its render. */
export function shouldPoll(runs: readonly Pick<Run, "status">[]): boolean {
  return runs.some((run) => isActiveRunStatus(run.status));
}

export const POLL_INTERVAL_MS = 3000;
