// Keyboard shortcuts of the editor (not while typing in a field).
import { useEffect, useRef } from "react";

export interface ShortcutActions {
  remove: () => void;
  undo: () => void;
  redo: () => void;
  copy: () => void;
  paste: () => void;
  selectAll: () => void;
  find: () => void;
  save: () => void;
  fitView: () => void;
  layout: () => void;
  help: () => void;
  escape: () => void;
}

/** [keys, what] for the help overlay, in the order shown. */
export const SHORTCUTS: readonly [string, string][] = [
  ["Delete / Backspace", "studio.keys.delete"],
  ["Ctrl+Z", "studio.keys.undo"],
  ["Ctrl+Shift+Z / Ctrl+Y", "studio.keys.redo"],
  ["Ctrl+C", "studio.keys.copy"],
  ["Ctrl+V", "studio.keys.paste"],
  ["Ctrl+A", "studio.keys.selectAll"],
  ["Ctrl+F", "studio.keys.find"],
  ["Ctrl+S", "studio.keys.save"],
  ["F", "studio.keys.fit"],
  ["L", "studio.keys.layout"],
  ["?", "studio.keys.help"],
];

function typing(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return (
    target.isContentEditable ||
    target instanceof HTMLInputElement ||
    target instanceof HTMLTextAreaElement ||
    target instanceof HTMLSelectElement
  );
}

/** Which action a key press asks for, or null. */
export function shortcutFor(
  event: Pick<KeyboardEvent, "key" | "ctrlKey" | "metaKey" | "shiftKey" | "altKey">,
): keyof ShortcutActions | null {
  const mod = event.ctrlKey || event.metaKey;
  const key = event.key.toLowerCase();
  if (event.altKey) return null;
  if (mod) {
    if (key === "z") return event.shiftKey ? "redo" : "undo";
    if (key === "y") return "redo";
    if (key === "c") return "copy";
    if (key === "v") return "paste";
    if (key === "a") return "selectAll";
    if (key === "f") return "find";
    if (key === "s") return "save";
    return null;
  }
  if (event.key === "Delete" || event.key === "Backspace") return "remove";
  if (event.key === "?") return "help";
  if (event.key === "Escape") return "escape";
  if (key === "f" && !event.shiftKey) return "fitView";
  if (key === "l" && !event.shiftKey) return "layout";
  return null;
}

export function useShortcuts(actions: ShortcutActions): void {
  const latest = useRef(actions);
  useEffect(() => {
    latest.current = actions;
  });
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const action = shortcutFor(event);
      if (!action) return;
      // In a field, only Escape and Ctrl+S act; everything else is the field's own.
      if (typing(event.target) && action !== "save" && action !== "escape") return;
      event.preventDefault();
      latest.current[action]();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
}
