// The test bench: run the draft on a sample case, watch each node's status on the canvas and
// the run's timeline, read a node's inputs, outputs, errors, attempts and timings, run one node
// again with pinned inputs, pin a node's outputs so later test runs do not call it, and open
// the PDF the run produced. Pins are kept per workflow in this browser (localStorage, see
// bench.ts) and sent with every test run; the run records those nodes as pinned.
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
import type { GraphSpec } from "../../lib/graph";
import type { Pins } from "./bench";
import { useDecorations } from "./decorations";
import { Timeline } from "./Timeline";

/** A production run the editor was opened from ("open in editor"): the bench offers its case. */
export interface FromRun {
  id: number;
  caseId: number;
  accession: string;
}

/** Each node's latest status in ``run`` (nodes that have not run are pending). */
export function statusesOf(run: RunDetail): Record<string, string> {
  const statuses: Record<string, string> = {};
  for (const node of run.nodes) {
    const attempts = attemptsOf(run, node.node_id);
    statuses[node.node_id] = attempts[attempts.length - 1]?.status ?? "pending";
  }
  return statuses;
}

function isOutputs(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function PinControl({
  nodeId,
  pinned,
  pinnable,
  pins,
  setPins,
}: {
  nodeId: string;
  pinned: Record<string, unknown> | undefined;
  pinnable: Record<string, unknown> | null;
  pins: Readonly<Pins>;
  setPins: (pins: Pins) => void;
}) {
  const { t } = useI18n();
  if (pinned) {
    const { [nodeId]: _gone, ...rest } = pins;
    return (
      <div className="pin pin--on" data-testid="bench-pin" data-pinned="true">
        <span className="tag tag--pinned">{t("studio.bench.pinnedTag")}</span>{" "}
        <button type="button" onClick={() => setPins(rest)} data-testid="pin-toggle">
          {t("studio.bench.unpin")}
        </button>
        <details>
          <summary>{t("studio.bench.pinnedOutputs")}</summary>
          <pre className="json" data-testid="bench-pinned-outputs">{JSON.stringify(pinned, null, 2)}</pre>
        </details>
      </div>
    );
  }
  if (!pinnable) return null;
  return (
    <div className="pin" data-testid="bench-pin" data-pinned="false">
      <button type="button" onClick={() => setPins({ ...pins, [nodeId]: pinnable })} data-testid="pin-toggle" title={t("studio.bench.pinnedHint")}>
        {t("studio.bench.pin")}
      </button>
    </div>
  );
}

/** A node that the run has not reached (or that the bench shows without a run): its pin only. */
function PinnedOnly({ nodeId }: { nodeId: string }) {
  const pins = useDecorations((d) => d.pins);
  const setPins = useDecorations((d) => d.setPins);
  if (!pins[nodeId]) return null;
  return (
    <div className="bench-node" data-testid="bench-node" data-node-id={nodeId}>
      <h3>
        <code>{nodeId}</code>
      </h3>
      <PinControl nodeId={nodeId} pinned={pins[nodeId]} pinnable={null} pins={pins} setPins={setPins} />
    </div>
  );
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
  const pins = useDecorations((d) => d.pins);
  const setPins = useDecorations((d) => d.setPins);
  const pinned = pins[nodeId];
  const succeeded = attempts.filter((a) => a.status === "succeeded").pop();
  const pinnable = succeeded && isOutputs(succeeded.outputs) ? succeeded.outputs : null;
  return (
    <div className="bench-node" data-testid="bench-node" data-node-id={nodeId}>
      <h3>
        <code>{nodeId}</code> {latest ? <StatusBadge status={latest.status} /> : t("detail.notRun")}
      </h3>
      <PinControl nodeId={nodeId} pinned={pinned} pinnable={pinnable} pins={pins} setPins={setPins} />
      {attempts.map((a) => (
        <div key={a.attempt} className="attempt" data-testid="bench-attempt">
          <p>
            {t("detail.attempt", { n: a.attempt })} · {formatDuration(a.duration_ms)} ·{" "}
            <time>{formatDateTime(a.started_at, locale)}</time> → <time>{formatDateTime(a.finished_at, locale)}</time>
          </p>
          {a.pinned ? (
            <p className="tag tag--pinned" data-testid="bench-was-pinned">
              {t("studio.bench.wasPinned")}
            </p>
          ) : null}
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

function WatchRun({
  runId,
  slug,
  selectedId,
  onPick,
}: {
  runId: number;
  slug: string;
  selectedId: string | null;
  onPick: (nodeId: string) => void;
}) {
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
    <div data-testid="bench-run" data-status={run.status} data-run-id={run.id}>
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
      {state.kind === "ready" ? <Timeline run={run} nowMs={state.fetchedAt} onPick={onPick} /> : null}
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
  currentSpec,
  onPick,
  fromRun,
}: {
  slug: string;
  dirty: boolean;
  save: () => Promise<unknown>;
  selectedId: string | null;
  /** The working copy's graph (what a test run runs once saved). */
  currentSpec: () => GraphSpec;
  onPick: (nodeId: string) => void;
  fromRun: FromRun | null;
}) {
  const { t } = useI18n();
  const api = useApi();
  const samples = useSampleCases();
  const runId = useDecorations((d) => d.testRunId);
  const setRunId = useDecorations((d) => d.setTestRunId);
  const setRanSpec = useDecorations((d) => d.setRanSpec);
  const pins = useDecorations((d) => d.pins);
  const setPins = useDecorations((d) => d.setPins);
  const [sample, setSample] = useState(fromRun ? `run:${fromRun.id}` : "");
  const [uploaded, setUploaded] = useState<unknown>(null);
  const start = useMutation({
    mutationFn: async () => {
      if (dirty) await save();
      const spec = currentSpec();
      const ids = new Set(spec.nodes.map((n) => n.id));
      // Pins of nodes no longer in the graph stay kept, but are not sent.
      const pinned = Object.fromEntries(Object.entries(pins).filter(([id]) => ids.has(id)));
      const onCase = fromRun && sample === `run:${fromRun.id}` && !uploaded;
      const document =
        uploaded ?? samples.data?.find((s) => s.name === sample)?.document ?? samples.data?.[0]?.document;
      const run = dataOf(
        await api.POST("/api/v1/workflows/{slug}/test-run", {
          params: { path: { slug } },
          body: onCase ? { case: fromRun.caseId, pinned } : { case_document: document, pinned },
        }),
      );
      return { run, spec };
    },
    onSuccess: ({ run, spec }) => {
      setRunId(run.id);
      setRanSpec(spec);
    },
  });
  const pinnedIds = Object.keys(pins);
  return (
    <div className="test-bench" data-testid="test-bench">
      <label>
        {t("studio.bench.sample")}
        <select value={sample} onChange={(e) => { setSample(e.target.value); setUploaded(null); }} data-testid="bench-sample">
          {fromRun ? (
            <option value={`run:${fromRun.id}`}>
              {t("studio.bench.runCase", { id: fromRun.id, accession: fromRun.accession })}
            </option>
          ) : null}
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
      {pinnedIds.length ? (
        <p className="muted small" data-testid="bench-pins">
          {t("studio.bench.pins", { nodes: pinnedIds.join(", ") })}{" "}
          <button type="button" className="link-button" onClick={() => setPins({})} data-testid="unpin-all">
            {t("studio.bench.unpinAll")}
          </button>
        </p>
      ) : null}
      <button type="button" onClick={() => start.mutate()} disabled={start.isPending} data-testid="test-run">
        {t("studio.bench.start")}
      </button>
      {start.error ? (
        <p className="error-text" role="alert">
          {start.error.message}
        </p>
      ) : null}
      {runId ? (
        <WatchRun key={runId} runId={runId} slug={slug} selectedId={selectedId} onPick={onPick} />
      ) : selectedId ? (
        <PinnedOnly nodeId={selectedId} />
      ) : null}
    </div>
  );
}
