// The React Flow canvas: drop a palette type to add a node, connect typed ports (a refused
// connection says why), problems drawn on edges, minimap and controls.
import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  useReactFlow,
} from "@xyflow/react";
import type { Connection as FlowConnection } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useCallback, useMemo } from "react";
import type { DragEvent } from "react";
import { checkConnection } from "../../lib/graph";
import type { Refusal } from "../../lib/graph";
import { useDecorations } from "./decorations";
import { DRAG_TYPE } from "./Palette";
import { NODE_TYPES } from "./PathflowNode";
import { useEditor, useEditorStore } from "./store";
import { FIT_VIEW } from "./layout";

export function nextEdgeId(taken: ReadonlySet<string>): string {
  for (let n = taken.size + 1; ; n += 1) {
    if (!taken.has(`e${n}`)) return `e${n}`;
  }
}

export interface CanvasProps {
  readOnly: boolean;
  onAddAt: (typeKey: string, position: { x: number; y: number }) => void;
  onRefused: (refusal: Refusal | null) => void;
}

export function Canvas({ readOnly, onAddAt, onRefused }: CanvasProps) {
  const store = useEditorStore();
  const nodes = useEditor((s) => s.nodes);
  const edges = useEditor((s) => s.edges);
  const onNodesChange = useEditor((s) => s.onNodesChange);
  const onEdgesChange = useEditor((s) => s.onEdgesChange);
  const types = useDecorations((d) => d.types);
  const edgeProblems = useDecorations((d) => d.problems.byEdge);
  const flow = useReactFlow();

  const shownEdges = useMemo(
    () =>
      edgeProblems.size === 0
        ? edges
        : edges.map((e) =>
            edgeProblems.has(e.id)
              ? { ...e, className: "edge--problem", label: edgeProblems.get(e.id)![0]!.message }
              : e,
          ),
    [edges, edgeProblems],
  );

  const onConnect = useCallback(
    (connection: FlowConnection) => {
      const state = store.getState();
      const refusal = checkConnection(connection, state.nodes, state.edges, types);
      onRefused(refusal);
      if (refusal) return;
      state.addEdge({
        id: nextEdgeId(new Set(state.edges.map((e) => e.id))),
        source: connection.source,
        sourceHandle: connection.sourceHandle,
        target: connection.target,
        targetHandle: connection.targetHandle,
      });
    },
    [store, types, onRefused],
  );

  const onDragOver = useCallback((event: DragEvent) => {
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  }, []);

  const onDrop = useCallback(
    (event: DragEvent) => {
      event.preventDefault();
      const key = event.dataTransfer.getData(DRAG_TYPE) || event.dataTransfer.getData("text/plain");
      if (!key || readOnly) return;
      onAddAt(key, flow.screenToFlowPosition({ x: event.clientX, y: event.clientY }));
    },
    [flow, onAddAt, readOnly],
  );

  return (
    <div className="canvas" data-testid="canvas" onDragOver={onDragOver} onDrop={onDrop}>
      <ReactFlow
        nodes={nodes}
        edges={shownEdges}
        nodeTypes={NODE_TYPES}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        nodesDraggable={!readOnly}
        nodesConnectable={!readOnly}
        // Delete/Backspace go through the editor's own shortcuts (one store action, one step).
        deleteKeyCode={null}
        multiSelectionKeyCode={["Shift", "Meta", "Control"]}
        onlyRenderVisibleElements={nodes.length > 500}
        minZoom={0.1}
        fitView
        fitViewOptions={FIT_VIEW}
        proOptions={{ hideAttribution: true }}
      >
        <Background />
        <Controls />
        <MiniMap pannable zoomable data-testid="minimap" />
      </ReactFlow>
    </div>
  );
}
