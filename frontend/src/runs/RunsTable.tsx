import { Fragment, useState } from "react";
import type { MouseEvent } from "react";
import { Link } from "react-router";
import type { Run } from "../api/models";
import { useI18n } from "../i18n";
import { formatDateTime, formatDuration, runDurationMs } from "../lib/format";
import { NodeRunsTable } from "./NodeRunsTable";
import { runPath } from "./route";
import { StatusBadge } from "./StatusBadge";

const COLUMNS = 6;

function stop(event: MouseEvent) {
  // Following the PDF link must not also fold the row open or shut.
  event.stopPropagation();
}

export interface RunsTableProps {
  runs: Run[];
  /** Client clock for durations of runs that are still going. */
  nowMs: number;
  caption: string;
}

export function RunsTable({ runs, nowMs, caption }: RunsTableProps) {
  const { t, locale } = useI18n();
  const [expanded, setExpanded] = useState<ReadonlySet<number>>(() => new Set());

  const toggle = (id: number) => {
    setExpanded((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  };

  return (
    <table className="runs" data-testid="runs-table">
      <caption className="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{t("col.case")}</th>
          <th scope="col">{t("col.workflow")}</th>
          <th scope="col">{t("col.status")}</th>
          <th scope="col">{t("col.created")}</th>
          <th scope="col" className="num">
            {t("col.duration")}
          </th>
          <th scope="col">{t("col.report")}</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((run) => {
          const isOpen = expanded.has(run.id);
          const detailId = `run-${run.id}-steps`;
          return (
            <Fragment key={run.id}>
              <tr
                data-testid="run-row"
                data-status={run.status}
                data-run-id={run.id}
                className={isOpen ? "run-row run-row--open" : "run-row"}
                onClick={() => toggle(run.id)}
              >
                <th scope="row">
                  <button
                    type="button"
                    className="disclosure"
                    aria-expanded={isOpen}
                    aria-controls={detailId}
                    aria-label={t(isOpen ? "runs.collapse" : "runs.expand", {
                      accession: run.case.accession,
                    })}
                  >
                    <span aria-hidden="true" className="chevron">
                      ▸
                    </span>
                  </button>
                  <span className="accession">{run.case.accession}</span>{" "}
                  <Link
                    to={runPath(run.id)}
                    data-testid="run-details"
                    aria-label={t("runs.detailsLabel", { id: run.id, accession: run.case.accession })}
                    onClick={stop}
                  >
                    {t("runs.details")}
                  </Link>
                </th>
                <td>
                  {run.workflow.name}{" "}
                  <span className="muted">
                    {t("runs.workflowVersion", { version: run.workflow.version })}
                  </span>
                </td>
                <td>
                  <StatusBadge status={run.status} />
                  {run.status === "failed" && run.error ? (
                    <div className="run-error-summary" title={run.error}>
                      {run.error}
                    </div>
                  ) : null}
                </td>
                <td>
                  <time dateTime={run.created_at}>{formatDateTime(run.created_at, locale)}</time>
                </td>
                <td className="num">{formatDuration(runDurationMs(run, nowMs))}</td>
                <td>
                  {run.report ? (
                    <a
                      href={run.report.pdf_url}
                      target="_blank"
                      rel="noopener"
                      data-testid="run-pdf"
                      aria-label={t("runs.pdfLabel", { accession: run.case.accession })}
                      onClick={stop}
                    >
                      {t("runs.pdf")}
                    </a>
                  ) : (
                    <span className="muted">{t("runs.noReport")}</span>
                  )}
                </td>
              </tr>
              {isOpen ? (
                <tr className="run-detail" id={detailId}>
                  <td colSpan={COLUMNS}>
                    {run.error ? (
                      <p className="error-text run-error">
                        <strong>{t("runs.runError")}:</strong> {run.error}
                      </p>
                    ) : null}
                    <NodeRunsTable runId={run.id} nodeRuns={run.node_runs} />
                  </td>
                </tr>
              ) : null}
            </Fragment>
          );
        })}
      </tbody>
    </table>
  );
}
