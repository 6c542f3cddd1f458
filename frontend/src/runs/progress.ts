// Pure helpers for the run detail's live updates.
import type { NodeAttempt, RunDetail, RunProgress } from "../api/models";

/** The latest checkpoint time in a run detail: the cursor to ask for progress after it. */
export function cursorOf(run: Pick<RunDetail, "node_runs">): string | null {
  let best: string | null = null;
  let bestMs = -Infinity;
  for (const row of run.node_runs) {
    for (const stamp of [row.started_at, row.finished_at]) {
      if (!stamp) continue;
      const ms = Date.parse(stamp);
      if (!Number.isNaN(ms) && ms > bestMs) {
        bestMs = ms;
        best = stamp;
      }
    }
  }
  return best;
}

/** Whether a progress answer tells something the detail on screen does not show. */
export function progressChanges(run: RunDetail, progress: RunProgress): boolean {
  if (progress.status !== run.status || progress.error !== run.error) return true;
  return progress.node_runs.some((row) => {
    const shown = run.node_runs.find((a) => a.node_id === row.node_id && a.attempt === row.attempt);
    return !shown || shown.status !== row.status || shown.duration_ms !== row.duration_ms;
  });
}

/** Attempts of one node, oldest first. */
export function attemptsOf(run: Pick<RunDetail, "node_runs">, nodeId: string): NodeAttempt[] {
  return run.node_runs
    .filter((a) => a.node_id === nodeId)
    .sort((a, b) => a.attempt - b.attempt);
}

/** Attempts of the nodes of a sub-workflow run inside node ``nodeId`` (recorded as
 * "<node>/<child node>"), in the order they started. */
export function childAttemptsOf(run: Pick<RunDetail, "node_runs">, nodeId: string): NodeAttempt[] {
  const prefix = `${nodeId}/`;
  return run.node_runs
    .filter((a) => a.node_id.startsWith(prefix))
    .sort(
      (a, b) =>
        (a.started_at ?? a.finished_at ?? "").localeCompare(b.started_at ?? b.finished_at ?? "") ||
        a.attempt - b.attempt,
    );
}
