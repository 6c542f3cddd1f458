// The editor's graph: a typed Zustand store per open workflow (behind a context), with undo
// and redo by zundo over the nodes and edges only — selection and measuring are not steps.
import { applyEdgeChanges, applyNodeChanges } from "@xyflow/react";
import type { Edge, EdgeChange, Node, NodeChange } from "@xyflow/react";
import { createContext, useContext } from "react";
import { temporal } from "zundo";
import type { TemporalState } from "zundo";
import { createStore, useStore } from "zustand";
import type { StoreApi } from "zustand";
import type { PathflowNodeData } from "../../lib/graph";

export type FlowNode = Node<PathflowNodeData, "pathflow">;
export type FlowEdge = Edge;

export interface EditorState {
  nodes: FlowNode[];
  edges: FlowEdge[];
  /** Replace the graph (opening a workflow): history starts afresh. */
  load: (nodes: FlowNode[], edges: FlowEdge[]) => void;
  onNodesChange: (changes: NodeChange<FlowNode>[]) => void;
  onEdgesChange: (changes: EdgeChange[]) => void;
  addNode: (node: FlowNode) => void;
  addEdge: (edge: FlowEdge) => void;
  updateNode: (id: string, patch: Partial<PathflowNodeData>) => void;
  /** The ports the backend computed from a node's config: derived data, not an undo step. */
  setPorts: (id: string, ports: NonNullable<PathflowNodeData["ports"]>) => void;
  /** Rename a node, and the edges at its ports. */
  renameNode: (id: string, next: string) => void;
  /** Add pasted nodes and edges, selected, and deselect everything else. */
  insert: (nodes: FlowNode[], edges: FlowEdge[]) => void;
  select: (ids: ReadonlySet<string> | "all") => void;
  removeSelected: () => void;
  setPositions: (positions: ReadonlyMap<string, { x: number; y: number }>) => void;
}

type Tracked = Pick<EditorState, "nodes" | "edges">;

/** The part of the state an undo step restores: no selection, no measurements. */
function tracked(state: EditorState): Tracked {
  return {
    nodes: state.nodes.map(({ selected: _s, measured: _m, dragging: _d, ...node }) => node),
    edges: state.edges.map(({ selected: _s, ...edge }) => edge),
  };
}

export type EditorStore = StoreApi<EditorState> & {
  temporal: StoreApi<TemporalState<Tracked>>;
};

/** Whether ``changes`` move nodes by dragging (true), end a drag (false), or neither (null). */
function dragPhase(changes: NodeChange<FlowNode>[]): boolean | null {
  const moves = changes.filter((c) => c.type === "position");
  if (moves.length === 0) return null;
  return moves.some((c) => c.type === "position" && c.dragging === true);
}

export function createEditorStore(): EditorStore {
  // A drag is one undo step: the state before it is recorded, the moves during it are not.
  let dragging = false;
  return createStore<EditorState>()(
    temporal(
      (set, get, api) => ({
        nodes: [],
        edges: [],
        load: (nodes, edges) => set({ nodes, edges }),
        onNodesChange: (changes) => {
          const history = (api as unknown as EditorStore).temporal.getState();
          const phase = dragPhase(changes);
          set({ nodes: applyNodeChanges(changes, get().nodes) });
          if (phase === true && !dragging) {
            dragging = true;
            history.pause();
          } else if (phase === false && dragging) {
            dragging = false;
            history.resume();
          }
        },
        onEdgesChange: (changes) => set({ edges: applyEdgeChanges(changes, get().edges) }),
        addNode: (node) =>
          set({
            nodes: [...get().nodes.map((n) => ({ ...n, selected: false })), { ...node, selected: true }],
          }),
        addEdge: (edge) => set({ edges: [...get().edges, edge] }),
        updateNode: (id, patch) =>
          set({
            nodes: get().nodes.map((n) => (n.id === id ? { ...n, data: { ...n.data, ...patch } } : n)),
          }),
        setPorts: (id, ports) => {
          const node = get().nodes.find((n) => n.id === id);
          if (!node || JSON.stringify(node.data.ports) === JSON.stringify(ports)) return;
          const history = (api as unknown as EditorStore).temporal.getState();
          const wasTracking = history.isTracking;
          history.pause();
          set({
            nodes: get().nodes.map((n) => (n.id === id ? { ...n, data: { ...n.data, ports } } : n)),
          });
          if (wasTracking) history.resume();
        },
        renameNode: (id, next) =>
          set({
            nodes: get().nodes.map((n) => (n.id === id ? { ...n, id: next } : n)),
            edges: get().edges.map((e) => ({
              ...e,
              source: e.source === id ? next : e.source,
              target: e.target === id ? next : e.target,
            })),
          }),
        insert: (nodes, edges) =>
          set({
            nodes: [...get().nodes.map((n) => ({ ...n, selected: false })), ...nodes],
            edges: [...get().edges.map((e) => ({ ...e, selected: false })), ...edges],
          }),
        select: (ids) =>
          set({
            nodes: get().nodes.map((n) => ({ ...n, selected: ids === "all" || ids.has(n.id) })),
            edges: get().edges.map((e) => ({ ...e, selected: ids === "all" })),
          }),
        removeSelected: () => {
          const gone = new Set(get().nodes.filter((n) => n.selected).map((n) => n.id));
          set({
            nodes: get().nodes.filter((n) => !gone.has(n.id)),
            edges: get().edges.filter(
              (e) => !e.selected && !gone.has(e.source) && !gone.has(e.target),
            ),
          });
        },
        setPositions: (positions) =>
          set({
            nodes: get().nodes.map((n) => {
              const position = positions.get(n.id);
              return position ? { ...n, position } : n;
            }),
          }),
      }),
      {
        partialize: tracked,
        equality: (a, b) => JSON.stringify(a) === JSON.stringify(b),
        limit: 200,
      },
    ),
  );
}

const EditorStoreContext = createContext<EditorStore | null>(null);
export const EditorStoreProvider = EditorStoreContext.Provider;

export function useEditorStore(): EditorStore {
  const store = useContext(EditorStoreContext);
  if (!store) throw new Error("useEditor must be used inside <EditorStoreProvider>");
  return store;
}

export function useEditor<T>(selector: (state: EditorState) => T): T {
  return useStore(useEditorStore(), selector);
}

export function useHistory<T>(selector: (state: TemporalState<Tracked>) => T): T {
  return useStore(useEditorStore().temporal, selector);
}
