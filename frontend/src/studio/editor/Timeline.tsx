// The run's timeline in the test bench: a row per node, a bar per attempt from its start to
// its end and, below a map's bar, a bar per item — what ran in parallel, and where the time
// went. Clicking a row selects its node on the canvas.
import type { RunDetail } from "../../api/models";
import { statusLabel, useI18n } from "../../i18n";
import { formatDuration } from "../../lib/format";
import { timelineOf } from "./bench";

const ATTEMPT_PX = 14;
const ITEM_PX = 7;

export function Timeline({
  run,
  nowMs,
  onPick,
}: {
  run: RunDetail;
  /** When the run was fetched: where a running attempt's bar ends. */
  nowMs: number;
  onPick: (nodeId: string) => void;
}) {
  const { t, lang } = useI18n();
  const timeline = timelineOf(run, nowMs);
  if (timeline.rows.length === 0) return <p className="muted">{t("studio.bench.timelineEmpty")}</p>;
  const span = Math.max(1, timeline.end - timeline.start);
  const longest = timeline.rows.reduce((a, b) => (b.busyMs > a.busyMs ? b : a));
  const pct = (value: number) => `${((value - timeline.start) / span) * 100}%`;
  return (
    <section className="timeline" data-testid="timeline" data-parallel={timeline.parallel}>
      <h4>{t("studio.bench.timeline")}</h4>
      <p className="muted small" data-testid="timeline-summary">
        {t("studio.bench.timelineSummary", {
          total: formatDuration(span),
          n: timeline.parallel,
          node: longest.nodeId,
          time: formatDuration(longest.busyMs),
        })}
      </p>
      <ol className="timeline-rows">
        {timeline.rows.map((row) => (
          <li key={row.nodeId} data-testid="timeline-row" data-node-id={row.nodeId}>
            <button
              type="button"
              className="timeline-label link-button"
              style={{ paddingLeft: row.depth * 10 }}
              onClick={() => onPick(row.nodeId.split("/")[0]!)}
              title={formatDuration(row.busyMs)}
            >
              {row.nodeId}
            </button>
            <div className="timeline-track" style={{ height: ATTEMPT_PX + (row.lanes - 1) * ITEM_PX + 2 }}>
              {row.bars.map((bar, i) => {
                const title =
                  bar.kind === "item"
                    ? `${t("studio.bench.item", { label: bar.label })} · ${formatDuration(bar.end - bar.start)}`
                    : `${row.nodeId} ${bar.label} · ${statusLabel(lang, bar.status)}${bar.pinned ? ` · ${t("studio.bench.pinnedTag")}` : ""} · ${formatDuration(bar.end - bar.start)}`;
                return (
                  <span
                    key={i}
                    className={`timeline-bar timeline-bar--${bar.kind} timeline-bar--${bar.pinned ? "pinned" : bar.status}`}
                    data-testid="timeline-bar"
                    data-kind={bar.kind}
                    data-status={bar.status}
                    data-pinned={bar.pinned}
                    title={title}
                    style={{
                      left: pct(bar.start),
                      width: `max(2px, ${((bar.end - bar.start) / span) * 100}%)`,
                      top: bar.lane === 0 ? 0 : ATTEMPT_PX + (bar.lane - 1) * ITEM_PX,
                      height: bar.kind === "item" ? ITEM_PX - 1 : ATTEMPT_PX - 2,
                    }}
                  />
                );
              })}
            </div>
          </li>
        ))}
      </ol>
    </section>
  );
}
