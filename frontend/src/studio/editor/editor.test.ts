import { describe, expect, it } from "vitest";
import { createEditorStore } from "./store";
import type { FlowNode } from "./store";
import { shortcutFor } from "./useShortcuts";

const key = (k: string, mods: Partial<Record<"ctrlKey" | "metaKey" | "shiftKey" | "altKey", boolean>> = {}) => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  shiftKey: false,
  altKey: false,
  ...mods,
});

describe("keyboard shortcuts", () => {
  it("maps keys to editor actions", () => {
    expect(shortcutFor(key("z", { ctrlKey: true }))).toBe("undo");
    expect(shortcutFor(key("Z", { ctrlKey: true, shiftKey: true }))).toBe("redo");
    expect(shortcutFor(key("y", { metaKey: true }))).toBe("redo");
    expect(shortcutFor(key("c", { ctrlKey: true }))).toBe("copy");
    expect(shortcutFor(key("v", { ctrlKey: true }))).toBe("paste");
    expect(shortcutFor(key("a", { ctrlKey: true }))).toBe("selectAll");
    expect(shortcutFor(key("f", { ctrlKey: true }))).toBe("find");
    expect(shortcutFor(key("s", { ctrlKey: true }))).toBe("save");
    expect(shortcutFor(key("?", { shiftKey: true }))).toBe("help");
    expect(shortcutFor(key("f"))).toBe("fitView");
    expect(shortcutFor(key("l"))).toBe("layout");
    expect(shortcutFor(key("Delete"))).toBe("remove");
    expect(shortcutFor(key("Backspace"))).toBe("remove");
    expect(shortcutFor(key("x"))).toBeNull();
    expect(shortcutFor(key("z", { ctrlKey: true, altKey: true }))).toBeNull();
  });
});

function flowNode(id: string, x = 0): FlowNode {
  return {
    id,
    type: "pathflow",
    position: { x, y: 0 },
    data: { type: "transform", typeVersion: 1, title: id, config: {}, extra: {} },
  };
}

describe("the editor store", () => {
  it("undoes and redoes graph changes but not selection, and a whole drag in one step", () => {
    const store = createEditorStore();
    store.getState().load([flowNode("case")], []);
    store.temporal.getState().clear();

    store.getState().addNode(flowNode("fields", 200));
    store.getState().select(new Set(["case"]));
    expect(store.temporal.getState().pastStates).toHaveLength(1);
    for (const x of [210, 220, 230]) {
      store.getState().onNodesChange([{ type: "position", id: "fields", position: { x, y: 0 }, dragging: true }]);
    }
    store.getState().onNodesChange([{ type: "position", id: "fields", position: { x: 240, y: 0 }, dragging: false }]);
    expect(store.temporal.getState().pastStates).toHaveLength(2);
    store.temporal.getState().undo();
    expect(store.getState().nodes[1]?.position).toEqual({ x: 200, y: 0 });

    store.temporal.getState().undo();
    expect(store.getState().nodes.map((n) => n.id)).toEqual(["case"]);
    store.temporal.getState().redo();
    expect(store.getState().nodes.map((n) => n.id)).toEqual(["case", "fields"]);
  });

  it("renames a node and the edges at its ports, and removes the selection with its edges", () => {
    const store = createEditorStore();
    store.getState().load(
      [flowNode("a"), flowNode("b")],
      [{ id: "e1", source: "a", sourceHandle: "findings", target: "b", targetHandle: "in" }],
    );
    store.getState().renameNode("a", "fields");
    expect(store.getState().edges[0]).toMatchObject({ source: "fields", target: "b" });
    store.getState().select(new Set(["fields"]));
    store.getState().removeSelected();
    expect(store.getState().nodes.map((n) => n.id)).toEqual(["b"]);
    expect(store.getState().edges).toEqual([]);
  });
});
