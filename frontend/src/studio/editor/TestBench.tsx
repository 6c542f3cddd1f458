// The test bench: run the draft on a sample case, watch each node's status on the canvas, read
// a node's inputs, outputs, errors, attempts and timings, run one node again with pinned
// inputs, and open the PDF the run produced.
import { useMutation } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link } from "react-router";
import { dataOf, useApi } from "../../api/client";
import type { RunDetail } from "../../api/models";
import { useI18n } from "../../i18n";
import { formatDateTime, formatDuration } from "../../lib/format";
import { attemptsOf } from "../../runs/progress";
import { StatusBadge } from "../../runs/StatusBadge";
import { useRunDetail } from "../../runs/useRunDetail";
import { useSampleCases } from "../api";
import { useDecorations } from "./decorations";

/** Each node's latest status in ``run`` (nodes that have not run are pending). */
export function statusesOf(run: RunDetail): Record<string, string> {
  const statuses: Record<string, string> = {};
  for (const node of run.nodes) {
    const attempts = attemptsOf(run, node.node_id);
    statuses[node.node_id] = attempts[attempts.length - 1]?.status ?? "pending";
  }
  return statuses;
}

function RunNode({ run, slug, nodeId }: { run: RunDetail; slug: string; nodeId: string }) {
  const { t, locale } = useI18n();
  const api = useApi();
  const attempts = attemptsOf(run, nodeId);
  const latest = attempts[attempts.length - 1];
  const [inputs, setInputs] = useState(() => JSON.stringify(latest?.inputs ?? {}, null, 2));
  const single = useMutation({
    mutationFn: async () => {
      const upstream: Record<string, unknown> = {};
      for (const node of run.nodes) {
        const done = attemptsOf(run, node.node_id).filter((a) => a.status === "succeeded").pop();
        if (done && node.node_id !== nodeId) upstream[node.node_id] = done.outputs;
      }
      return dataOf(
        await api.POST("/api/v1/workflows/{slug}/nodes/{node_id}/run", {
          params: { path: { slug, node_id: nodeId } },
          body: { inputs: JSON.parse(inputs) as unknown, case: run.case.id, nodes: upstream },
        }),
      );
    },
  });
  return (
    <div className="bench-node" data-testid="bench-node" data-node-id={nodeId}>
      <h3>
        <code>{nodeId}</code> {latest ? <StatusBadge status={latest.status} /> : t("detail.notRun")}
      </h3>
      {attempts.map((a) => (
        <div key={a.attempt} className="attempt" data-testid="bench-attempt">
          <p>
            {t("detail.attempt", { n: a.attempt })} · {formatDuration(a.duration_ms)} ·{" "}
            <time>{formatDateTime(a.started_at, locale)}</time> → <time>{formatDateTime(a.finished_at, locale)}</time>
          </p>
          {a.error ? <p className="error-text">{a.error}</p> : null}
          <details>
            <summary>{t("detail.inputs")}</summary>
            <pre className="json">{JSON.stringify(a.inputs, null, 2)}</pre>
          </details>
          <details open>
            <summary>{t("detail.outputs")}</summary>
            <pre className="json" data-testid="bench-outputs">{JSON.stringify(a.outputs, null, 2)}</pre>
          </details>
        </div>
      ))}
      <details className="pinned">
        <summary>{t("studio.bench.runOne")}</summary>
        <p className="muted small">{t("studio.bench.runOneHint")}</p>
        <textarea rows={6} value={inputs} spellCheck={false} onChange={(e) => setInputs(e.target.value)} data-testid="pinned-inputs" />
        <button type="button" onClick={() => single.mutate()} disabled={single.isPending} data-testid="run-one">
          {t("studio.bench.runOneButton")}
        </button>
        {single.error ? <p className="error-text">{single.error.message}</p> : null}
        {single.data ? (
          <div data-testid="run-one-result">
            <StatusBadge status={single.data.status} /> {formatDuration(single.data.duration_ms)}
            {single.data.error ? <p className="error-text">{single.data.error}</p> : null}
            <pre className="json">{JSON.stringify(single.data.outputs, null, 2)}</pre>
          </div>
        ) : null}
      </details>
    </div>
  );
}

function WatchRun({ runId, slug, selectedId }: { runId: number; slug: string; selectedId: string | null }) {
  const { t } = useI18n();
  const { state } = useRunDetail(runId);
  const setStatuses = useDecorations((d) => d.setStatuses);
  const run = state.kind === "ready" ? state.run : null;
  useEffect(() => {
    if (run) setStatuses(statusesOf(run));
  }, [run, setStatuses]);
  if (state.kind === "error") return <p className="error-text">{state.message}</p>;
  if (!run) return <p className="muted">{t("page.loading")}</p>;
  return (
    <div data-testid="bench-run" data-status={run.status}>
      <p>
        <Link to={`/runs/${run.id}`}>{t("detail.heading", { id: run.id })}</Link> <StatusBadge status={run.status} />{" "}
        <span className="muted">{run.case.accession}</span>
      </p>
      {run.error ? <p className="error-text">{run.error}</p> : null}
      {run.report ? (
        <p>
          <a href={run.report.pdf_url} target="_blank" rel="noopener" data-testid="bench-pdf">
            {t("studio.bench.pdf")}
          </a>
        </p>
      ) : null}
      {selectedId ? (
        <RunNode key={`${selectedId}-${run.node_runs.length}`} run={run} slug={slug} nodeId={selectedId} />
      ) : (
        <p className="muted">{t("studio.bench.pickNode")}</p>
      )}
    </div>
  );
}

export function TestBench({
  slug,
  dirty,
  save,
  selectedId,
}: {
  slug: string;
  dirty: boolean;
  save: () => Promise<unknown>;
  selectedId: string | null;
}) {
  const { t } = useI18n();
  const api = useApi();
  const samples = useSampleCases();
  const runId = useDecorations((d) => d.testRunId);
  const setRunId = useDecorations((d) => d.setTestRunId);
  const [sample, setSample] = useState("");
  const [uploaded, setUploaded] = useState<unknown>(null);
  const start = useMutation({
    mutationFn: async () => {
      if (dirty) await save();
      const document =
        uploaded ?? samples.data?.find((s) => s.name === sample)?.document ?? samples.data?.[0]?.document;
      return dataOf(
        await api.POST("/api/v1/workflows/{slug}/test-run", {
          params: { path: { slug } },
          body: { case_document: document },
        }),
      );
    },
    onSuccess: (run) => setRunId(run.id),
  });
  return (
    <div className="test-bench" data-testid="test-bench">
      <label>
        {t("studio.bench.sample")}
        <select value={sample} onChange={(e) => { setSample(e.target.value); setUploaded(null); }} data-testid="bench-sample">
          {(samples.data ?? []).map((s) => (
            <option key={s.name} value={s.name}>
              {s.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t("studio.bench.upload")}
        <input
          type="file"
          accept="application/json,.json"
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) void file.text().then((text) => setUploaded(JSON.parse(text) as unknown));
          }}
        />
      </label>
      <button type="button" onClick={() => start.mutate()} disabled={start.isPending} data-testid="test-run">
        {t("studio.bench.start")}
      </button>
      {start.error ? (
        <p className="error-text" role="alert">
          {start.error.message}
        </p>
      ) : null}
      {runId ? <WatchRun key={runId} runId={runId} slug={slug} selectedId={selectedId} /> : null}
    </div>
  );
}
