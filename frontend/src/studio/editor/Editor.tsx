// The workflow editor at /app/studio/workflows/:slug — canvas, palette, inspector, problems,
// test bench and history around one working copy of the graph.
import { ReactFlowProvider, useReactFlow } from "@xyflow/react";
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useState } from "react";
import { Link } from "react-router";
import { useStore } from "zustand";
import { dataOf, useApi } from "../../api/client";
import type { RunDetail } from "../../api/models";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n";
import { formatDateTime } from "../../lib/format";
import {
  fragmentOf,
  freshId,
  parseFragment,
  placeFragment,
  specToCanvas,
} from "../../lib/graph";
import type { GraphSpec, NodeTypeInfo, Refusal } from "../../lib/graph";
import type { GraphProblem } from "../../lib/problems";
import { studioKeys } from "../api";
import type { WorkflowDetail } from "../api";
import { parsePins, pinsFromRun, pinsKey, serialisePins, staleNodes } from "./bench";
import type { Pins } from "./bench";
import { Canvas } from "./Canvas";
import { createDecorations, DecorationProvider } from "./decorations";
import { HelpOverlay } from "./HelpOverlay";
import { History } from "./History";
import { Inspector } from "./Inspector";
import { FIT_VIEW, autoLayout, placedOnOpen } from "./layout";
import { Palette } from "./Palette";
import { ProblemsPanel } from "./ProblemsPanel";
import { createEditorStore, EditorStoreProvider } from "./store";
import type { EditorStore, FlowNode } from "./store";
import { TestBench } from "./TestBench";
import { saveStateOf, specOf, useAutosave, useDraft } from "./useDraft";
import { useShortcuts } from "./useShortcuts";

const CLIPBOARD_KEY = "pathflow.clipboard";

export interface OpenedGraph {
  spec: GraphSpec;
  updatedAt: string;
  problems: GraphProblem[];
  warnings: GraphProblem[];
  /** Opened from a run ("open in editor"): its version's graph, its outputs pinned. */
  fromRun?: RunDetail;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

type Tab = "inspector" | "problems" | "bench" | "history";

function refusalText(t: (key: MessageKey, p?: Record<string, string | number>) => string, r: Refusal) {
  switch (r.code) {
    case "self":
      return t("studio.refused.self");
    case "unknownPort":
      return t("studio.refused.unknownPort", { node: r.node, port: r.port });
    case "type":
      return t("studio.refused.type", {
        sourcePort: r.sourcePort,
        sourceType: r.sourceType,
        targetPort: r.targetPort,
        targetType: r.targetType,
      });
    case "taken":
      return t("studio.refused.taken", { node: r.node, port: r.port, from: r.from });
    case "duplicate":
      return t("studio.refused.duplicate");
    case "cycle":
      return t("studio.refused.cycle", { path: r.path.join(" → ") });
  }
}

async function writeClipboard(text: string): Promise<void> {
  window.localStorage.setItem(CLIPBOARD_KEY, text);
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // No clipboard permission: the copy lives in this browser's storage (other tabs too).
  }
}

async function readClipboard(): Promise<string> {
  try {
    const text = await navigator.clipboard.readText();
    if (parseFragment(text)) return text;
  } catch {
    // fall back to this browser's copy
  }
  return window.localStorage.getItem(CLIPBOARD_KEY) ?? "";
}

function EditorBody(props: {
  slug: string;
  workflow: WorkflowDetail;
  opened: OpenedGraph;
  store: EditorStore;
  decorations: ReturnType<typeof createDecorations>;
  readOnly: boolean;
}) {
  const { slug, workflow, opened, store, decorations, readOnly } = props;
  const { t, locale } = useI18n();
  const api = useApi();
  const queryClient = useQueryClient();
  const flow = useReactFlow();
  const types = useStore(decorations, (d) => d.types);
  const nodes = useStore(store, (s) => s.nodes);
  const edges = useStore(store, (s) => s.edges);
  const canUndo = useStore(store.temporal, (h) => h.pastStates.length > 0);
  const canRedo = useStore(store.temporal, (h) => h.futureStates.length > 0);
  const { schema_version, name, nodes: _n, edges: _e, ...rest } = opened.spec;
  const draft = useDraft(slug, store, decorations, {
    base: { schema_version, name, ...rest },
    updatedAt: opened.updatedAt,
    spec: opened.spec,
    replacesDraft: opened.fromRun !== undefined,
  });
  const [tab, setTab] = useState<Tab>(opened.fromRun ? "bench" : "inspector");
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [help, setHelp] = useState(false);
  const [finding, setFinding] = useState(false);
  const [publishing, setPublishing] = useState(false);
  const [note, setNote] = useState("");

  const selected = nodes.filter((n) => n.selected);
  const currentSpec = useMemo(
    () => specOf(store, draft.base),
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the spec changes with nodes/edges
    [nodes, edges, draft.base, store],
  );
  const currentJson = useMemo(() => JSON.stringify(currentSpec), [currentSpec]);
  const dirty = currentJson !== draft.savedJson;
  useAutosave(draft, currentJson, !readOnly);
  const saveState = saveStateOf({
    pending: draft.save.isPending,
    dirty,
    conflict: draft.conflict !== null,
    failed: draft.save.isError,
  });
  const [mineCopied, setMineCopied] = useState(false);

  // Nodes edited since the latest test run, and everything downstream of them, are stale.
  const ranSpec = useStore(decorations, (d) => d.ranSpec);
  useEffect(() => {
    const stale = ranSpec ? staleNodes(ranSpec, currentSpec) : new Set<string>();
    if (!sameSet(stale, decorations.getState().stale)) decorations.getState().setStale(stale);
  }, [ranSpec, currentSpec, decorations]);

  const addAt = useCallback(
    (key: string, position: { x: number; y: number }) => {
      const info = types.get(key);
      if (!info) return;
      const taken = new Set(store.getState().nodes.map((n) => n.id));
      const node: FlowNode = {
        id: freshId(info.name, taken),
        type: "pathflow",
        position,
        data: { type: info.name, typeVersion: info.version, title: info.title, config: {}, extra: {} },
      };
      store.getState().addNode(node);
      setTab("inspector");
    },
    [store, types],
  );

  const addInView = useCallback(
    (key: string) => {
      const box = document.querySelector(".canvas")?.getBoundingClientRect();
      const centre = box
        ? { x: box.left + box.width / 2, y: box.top + box.height / 2 }
        : { x: 400, y: 300 };
      addAt(key, flow.screenToFlowPosition(centre));
    },
    [addAt, flow],
  );

  // Counted on the editor element (data-layouts), so a benchmark can tell when one is done.
  const [layouts, setLayouts] = useState(0);
  const layout = useCallback(() => {
    const { nodes: all, edges: links } = store.getState();
    store.getState().setPositions(autoLayout(all, links, types));
    window.requestAnimationFrame(() => {
      void flow.fitView(FIT_VIEW);
      setLayouts((n) => n + 1);
    });
  }, [store, flow, types]);

  const copy = useCallback(async () => {
    const { nodes: all, edges: links } = store.getState();
    const ids = new Set(all.filter((n) => n.selected).map((n) => n.id));
    if (ids.size === 0) return;
    await writeClipboard(JSON.stringify(fragmentOf(all, links, ids)));
    setNotice(t("studio.copied", { n: ids.size }));
  }, [store, t]);

  const paste = useCallback(async () => {
    const fragment = parseFragment(await readClipboard());
    if (!fragment || readOnly) return;
    const { nodes: all, edges: links } = store.getState();
    const placed = placeFragment(
      fragment,
      new Set(all.map((n) => n.id)),
      new Set(links.map((e) => e.id)),
      { x: 40, y: 40 },
    );
    store.getState().insert(placed.nodes, placed.edges);
    setNotice(t("studio.pasted", { n: placed.nodes.length }));
  }, [store, readOnly, t]);

  const save = useCallback(() => {
    if (!readOnly) draft.save.mutate({});
  }, [draft.save, readOnly]);

  useShortcuts({
    remove: () => {
      if (!readOnly) store.getState().removeSelected();
    },
    undo: () => store.temporal.getState().undo(),
    redo: () => store.temporal.getState().redo(),
    copy: () => void copy(),
    paste: () => void paste(),
    selectAll: () => store.getState().select("all"),
    find: () => setFinding(true),
    save,
    fitView: () => void flow.fitView({ ...FIT_VIEW, duration: 200 }),
    layout,
    help: () => setHelp((open) => !open),
    escape: () => {
      setHelp(false);
      setFinding(false);
    },
  });

  const focusNode = useCallback(
    (id: string) => {
      store.getState().select(new Set([id]));
      void flow.fitView({ nodes: [{ id }], duration: 200, maxZoom: 1.2 });
      setTab("inspector");
    },
    [store, flow],
  );

  const reloadTheirs = async () => {
    const fresh = dataOf(
      await api.GET("/api/v1/workflows/{slug}", { params: { path: { slug } } }),
    );
    queryClient.setQueryData(studioKeys.workflow(slug), fresh);
    if (!fresh.draft) return;
    const spec = fresh.draft.graph as GraphSpec;
    const canvas = specToCanvas(spec, types);
    store.getState().load(canvas.nodes, canvas.edges);
    const { schema_version: sv, name: n, nodes: _a, edges: _b, ...others } = spec;
    draft.reloaded(spec, fresh.draft.updated_at, { schema_version: sv, name: n, ...others });
    decorations.getState().setProblems(fresh.draft.problems, fresh.draft.warnings);
  };

  const problemCount = useStore(decorations, (d) =>
    [...d.problems.byNode.values()].reduce((n, list) => n + list.length, 0) +
    d.problems.graph.length +
    [...d.problems.byEdge.values()].reduce((n, list) => n + list.length, 0),
  );
  const saveError = draft.save.error && !draft.conflict ? draft.save.error.message : null;
  const fromRun = useMemo(
    () =>
      opened.fromRun
        ? { id: opened.fromRun.id, caseId: opened.fromRun.case.id, accession: opened.fromRun.case.accession }
        : null,
    [opened.fromRun],
  );
  const pick = useCallback(
    (id: string) => {
      store.getState().select(new Set([id]));
      void flow.fitView({ nodes: [{ id }], duration: 200, maxZoom: 1.2 });
    },
    [store, flow],
  );

  return (
    <div className="editor" data-testid="editor" data-layouts={layouts}>
      <div className="editor-toolbar" role="toolbar" aria-label={t("studio.toolbar")}>
        <Link to="/studio/workflows" className="back">
          {t("studio.back")}
        </Link>
        <h1 className="editor-title">
          {workflow.name} <code className="muted">{slug}</code>
        </h1>
        <span className={`save-state save-state--${saveState}`} data-testid="save-state" data-state={saveState}>
          {t(
            ({
              saved: "studio.saved",
              saving: "studio.saving",
              unsaved: "studio.unsaved",
              conflict: "studio.saveConflict",
              failed: "studio.saveFailed",
            } as const)[saveState],
          )}
        </span>
        <div className="toolbar-actions">
          <Link to={`/studio/workflows/${slug}/quality`} data-testid="quality-link">{t("quality.link")}</Link>
          <button type="button" onClick={() => store.temporal.getState().undo()} disabled={!canUndo} title="Ctrl+Z">
            {t("studio.undo")}
          </button>
          <button type="button" onClick={() => store.temporal.getState().redo()} disabled={!canRedo} title="Ctrl+Shift+Z">
            {t("studio.redo")}
          </button>
          <button type="button" onClick={layout} title="L" data-testid="auto-layout">
            {t("studio.layout")}
          </button>
          <button type="button" onClick={() => void flow.fitView({ ...FIT_VIEW, duration: 200 })} title="F" data-testid="fit-view">
            {t("studio.fit")}
          </button>
          <button type="button" onClick={() => setFinding(true)} title="Ctrl+F">
            {t("studio.find")}
          </button>
          <button type="button" onClick={() => setHelp(true)} title="?" aria-label={t("studio.keys.help")}>
            ?
          </button>
          {!readOnly ? (
            <>
              <button type="button" onClick={save} disabled={draft.save.isPending} data-testid="save">
                {t("studio.save")}
              </button>
              <button type="button" onClick={() => setPublishing(true)} data-testid="publish">
                {t("studio.publish")}
              </button>
            </>
          ) : null}
        </div>
      </div>
      <div aria-live="polite" className="editor-messages">
        {refusal ? (
          <p className="error-text" role="alert" data-testid="connection-refused">
            {refusalText(t, refusal)}
          </p>
        ) : null}
        {draft.conflict ? (
          <div className="conflict" role="alert" data-testid="save-conflict">
            <p>
              {t("studio.conflict", {
                user: draft.conflict.updatedBy ?? "?",
                time: formatDateTime(draft.conflict.updatedAt, locale),
              })}
            </p>
            <button type="button" onClick={() => void reloadTheirs()}>
              {t("studio.conflictReload")}
            </button>{" "}
            <button
              type="button"
              onClick={() => {
                setMineCopied(false);
                void navigator.clipboard
                  .writeText(JSON.stringify(currentSpec, null, 2))
                  .then(() => setMineCopied(true), () => setMineCopied(false));
              }}
              data-testid="conflict-copy"
            >
              {t("studio.conflictCopy")}
            </button>{" "}
            <button type="button" className="danger-button" onClick={() => draft.save.mutate({ overwrite: true })}>
              {t("studio.conflictOverwrite")}
            </button>
            {mineCopied ? <p className="muted">{t("studio.conflictCopied")}</p> : null}
            <details>
              <summary>{t("studio.conflictMine")}</summary>
              <textarea readOnly rows={8} value={JSON.stringify(currentSpec, null, 2)} data-testid="conflict-mine" />
            </details>
          </div>
        ) : null}
        {opened.fromRun ? (
          <p className="notice" data-testid="from-run">
            {t("studio.fromRun", { version: opened.fromRun.workflow.version, id: opened.fromRun.id })}
          </p>
        ) : null}
        {saveError ? <p className="error-text" role="alert">{saveError}</p> : null}
        {draft.publish.isSuccess ? (
          <p className="ok-text" data-testid="published">
            {t("studio.published", { version: draft.publish.data.number })}
          </p>
        ) : null}
        {draft.publish.error ? (
          <p className="error-text" role="alert" data-testid="publish-error">
            {draft.publish.error.message}
          </p>
        ) : null}
        {notice ? <p className="muted">{notice}</p> : null}
      </div>
      {publishing ? (
        <form
          className="publish-dialog"
          data-testid="publish-dialog"
          onSubmit={(e) => {
            e.preventDefault();
            setPublishing(false);
            draft.publish.mutate(note);
          }}
        >
          <label>
            {t("studio.publishNote")}
            <textarea value={note} onChange={(e) => setNote(e.target.value)} data-testid="publish-note" rows={3} />
          </label>
          <button type="submit" data-testid="publish-confirm">
            {t("studio.publishConfirm")}
          </button>{" "}
          <button type="button" onClick={() => setPublishing(false)}>
            {t("studio.cancel")}
          </button>
        </form>
      ) : null}
      {finding ? (
        <FindNode nodes={nodes} onPick={(id) => { focusNode(id); setFinding(false); }} onClose={() => setFinding(false)} />
      ) : null}
      {help ? <HelpOverlay onClose={() => setHelp(false)} /> : null}
      <div className="editor-body">
        {!readOnly ? <Palette types={types} onAdd={addInView} /> : null}
        <Canvas readOnly={readOnly} onAddAt={addAt} onRefused={setRefusal} />
        <aside className="side-panel">
          <div role="tablist" className="tabs">
            {(["inspector", "problems", "bench", "history"] as const).map((name) => (
              <button
                key={name}
                type="button"
                role="tab"
                aria-selected={tab === name}
                data-testid={`tab-${name}`}
                onClick={() => setTab(name)}
              >
                {t(`studio.tab.${name}`)}
                {name === "problems" && problemCount ? ` (${problemCount})` : ""}
              </button>
            ))}
          </div>
          {tab === "inspector" ? (
            selected.length === 1 ? (
              <Inspector key={selected[0]!.id} node={selected[0]!} readOnly={readOnly} />
            ) : (
              <p className="muted">{t(selected.length ? "studio.inspector.many" : "studio.inspector.none")}</p>
            )
          ) : null}
          {tab === "problems" ? <ProblemsPanel onPick={focusNode} /> : null}
          {tab === "bench" ? (
            <TestBench
              slug={slug}
              dirty={dirty || draft.replacesDraft}
              save={() => draft.save.mutateAsync({})}
              selectedId={selected.length === 1 ? selected[0]!.id : null}
              currentSpec={() => specOf(store, draft.base)}
              onPick={pick}
              fromRun={fromRun}
            />
          ) : null}
          {tab === "history" ? <History slug={slug} canChange={!readOnly} /> : null}
        </aside>
      </div>
    </div>
  );
}

function FindNode({
  nodes,
  onPick,
  onClose,
}: {
  nodes: readonly FlowNode[];
  onPick: (id: string) => void;
  onClose: () => void;
}) {
  const { t } = useI18n();
  const [text, setText] = useState("");
  const matches = nodes.filter((n) =>
    `${n.id} ${n.data.title}`.toLowerCase().includes(text.trim().toLowerCase()),
  );
  return (
    <div className="find-node" role="search" data-testid="find-node">
      <input
        autoFocus
        value={text}
        placeholder={t("studio.findPlaceholder")}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && matches[0]) onPick(matches[0].id);
          if (e.key === "Escape") onClose();
        }}
      />
      <ul>
        {matches.slice(0, 8).map((n) => (
          <li key={n.id}>
            <button type="button" className="link-button" onClick={() => onPick(n.id)}>
              {n.data.title || n.id} <code className="muted">{n.id}</code>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function Editor({
  slug,
  workflow,
  opened,
  types,
  readOnly,
}: {
  slug: string;
  workflow: WorkflowDetail;
  opened: OpenedGraph;
  types: ReadonlyMap<string, NodeTypeInfo>;
  readOnly: boolean;
}) {
  // Built once per opened workflow (the page keys the editor by slug).
  const [store] = useState(() => {
    const created = createEditorStore();
    const canvas = specToCanvas(opened.spec, types);
    created.getState().load(placedOnOpen(opened.spec, canvas.nodes, canvas.edges, types), canvas.edges);
    created.temporal.getState().clear();
    return created;
  });
  const [decorations] = useState(() => {
    const created = createDecorations();
    created.getState().setTypes(types);
    created.getState().setProblems(opened.problems, opened.warnings);
    // Pins are kept per workflow in this browser; opening a run pins what it recorded.
    const kept = parsePins(window.localStorage.getItem(pinsKey(slug)));
    if (opened.fromRun) {
      created.getState().setPins(pinsFromRun(opened.fromRun));
      created.getState().setTestRunId(opened.fromRun.id);
      created.getState().setRanSpec(opened.spec);
    } else {
      created.getState().setPins(kept);
    }
    return created;
  });
  useEffect(() => {
    const write = (pins: Pins) => {
      try {
        window.localStorage.setItem(pinsKey(slug), serialisePins(pins));
      } catch {
        // Storage full or refused: the pins last for this visit only.
      }
    };
    if (opened.fromRun) write(decorations.getState().pins);
    return decorations.subscribe((state, previous) => {
      if (state.pins !== previous.pins) write(state.pins);
    });
  }, [decorations, slug, opened.fromRun]);
  return (
    <EditorStoreProvider value={store}>
      <DecorationProvider value={decorations}>
        <ReactFlowProvider>
          <EditorBody
            slug={slug}
            workflow={workflow}
            opened={opened}
            store={store}
            decorations={decorations}
            readOnly={readOnly}
          />
        </ReactFlowProvider>
      </DecorationProvider>
    </EditorStoreProvider>
  );
}
