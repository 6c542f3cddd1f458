import { describe, expect, it } from "vitest";
import { INITIAL, canSign, cockpitReducer, commandOfKey, undecided } from "./cockpit";
import type { CockpitField, CockpitState } from "./cockpit";

const FIELDS: CockpitField[] = [
  { id: "histologic_type", differsFromAi: false, blocked: false },
  { id: "margin_distance_mm", differsFromAi: true, blocked: false },
  { id: "pt_category", differsFromAi: false, blocked: false },
];

function press(keys: string[], fields = FIELDS, problems: string[] = []): CockpitState {
  let state = INITIAL;
  for (const key of keys) {
    const command = commandOfKey(key, state.editing !== null);
    if (command && command !== "openNext") {
      state = cockpitReducer(state, command, fields, problems);
    }
  }
  return state;
}

describe("the cockpit keyboard", () => {
  it("signs an agreed draft with two keys: accept all agreed, then sign", () => {
    const state = press(["A", "s"]);
    expect(state.signing).toBe(true);
    expect(undecided(FIELDS, state)).toEqual([]);
  });

  it("does not open the signature while a field waits for a decision", () => {
    const state = press(["a", "s"]);
    expect(state.accepted).toEqual(new Set(["histologic_type"]));
    expect(state.signing).toBe(false);
    expect(undecided(FIELDS, state)).toEqual(["pt_category"]);
  });

  it("moves with j and k, staying inside the list", () => {
    expect(press(["j", "j", "j", "j"]).cursor).toBe(2);
    expect(press(["j", "k", "k"]).cursor).toBe(0);
  });

  it("accepts the field under the cursor and moves on", () => {
    const state = press(["j", "j", "a"]);
    expect(state.accepted).toEqual(new Set(["pt_category"]));
    expect(state.cursor).toBe(2);
  });

  it("edits with e, and keys typed while editing are not commands", () => {
    const editing = press(["j", "e"]);
    expect(editing.editing).toBe("margin_distance_mm");
    expect(commandOfKey("s", true)).toBeNull();
    expect(commandOfKey("Escape", true)).toEqual({ kind: "stopEditing" });
  });

  it("never signs while a problem blocks sign-out, nor accepts a blocked field", () => {
    const blocked = FIELDS.map((f) => (f.id === "pt_category" ? { ...f, blocked: true } : f));
    const state = press(["A", "s"], blocked, ["pt_category: is required"]);
    expect(state.signing).toBe(false);
    expect(state.accepted.has("pt_category")).toBe(false);
    expect(canSign(blocked, state, [])).toBe(false);
  });

  it("opens the next case with n", () => {
    expect(commandOfKey("n", false)).toBe("openNext");
  });
});
