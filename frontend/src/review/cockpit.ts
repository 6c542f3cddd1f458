// The review cockpit's keyboard model, as pure functions: which field has the cursor, which
// fields the pathologist has accepted, what a key does. A draft the pathologist agrees with is
// signed with two keys and the password: `A` accepts every field that agrees with the AI
// draft, `s` opens the signature dialog.

export interface CockpitField {
  id: string;
  /** The value differs from the AI draft's: a person set it (their edit is their decision). */
  differsFromAi: boolean;
  /** A problem that blocks sign-out names this field. */
  blocked: boolean;
}

export interface CockpitState {
  cursor: number;
  accepted: ReadonlySet<string>;
  editing: string | null;
  signing: boolean;
}

export type CockpitCommand =
  | { kind: "next" }
  | { kind: "previous" }
  | { kind: "accept" }
  | { kind: "acceptAgreed" }
  | { kind: "edit" }
  | { kind: "stopEditing" }
  | { kind: "sign" }
  | { kind: "closeDialog" }
  | { kind: "focus"; index: number }
  | { kind: "reset" };

export const INITIAL: CockpitState = {
  cursor: 0,
  accepted: new Set(),
  editing: null,
  signing: false,
};

/** The command a key stands for (none while typing in a field or a dialog is open). */
export function commandOfKey(key: string, typing: boolean): CockpitCommand | "openNext" | null {
  if (typing) return key === "Escape" ? { kind: "stopEditing" } : null;
  switch (key) {
    case "j":
    case "ArrowDown":
      return { kind: "next" };
    case "k":
    case "ArrowUp":
      return { kind: "previous" };
    case "a":
      return { kind: "accept" };
    case "A":
      return { kind: "acceptAgreed" };
    case "e":
      return { kind: "edit" };
    case "s":
      return { kind: "sign" };
    case "n":
      return "openNext";
    case "Escape":
      return { kind: "closeDialog" };
    default:
      return null;
  }
}

/** Whether every field has the pathologist's decision: accepted, or set by them. */
export function allDecided(fields: readonly CockpitField[], state: CockpitState): boolean {
  return fields.every((f) => f.differsFromAi || state.accepted.has(f.id));
}

/** Fields still waiting for a decision, in order. */
export function undecided(fields: readonly CockpitField[], state: CockpitState): string[] {
  return fields.filter((f) => !f.differsFromAi && !state.accepted.has(f.id)).map((f) => f.id);
}

export function canSign(
  fields: readonly CockpitField[],
  state: CockpitState,
  problems: readonly string[],
): boolean {
  return problems.length === 0 && allDecided(fields, state);
}

function clamp(index: number, fields: readonly CockpitField[]): number {
  return Math.max(0, Math.min(index, fields.length - 1));
}

export function cockpitReducer(
  state: CockpitState,
  command: CockpitCommand,
  fields: readonly CockpitField[],
  problems: readonly string[] = [],
): CockpitState {
  const current = fields[state.cursor];
  switch (command.kind) {
    case "next":
      return { ...state, cursor: clamp(state.cursor + 1, fields) };
    case "previous":
      return { ...state, cursor: clamp(state.cursor - 1, fields) };
    case "focus":
      return { ...state, cursor: clamp(command.index, fields) };
    case "accept": {
      if (!current || current.blocked) return state;
      const accepted = new Set(state.accepted).add(current.id);
      return { ...state, accepted, cursor: clamp(state.cursor + 1, fields) };
    }
    case "acceptAgreed": {
      const accepted = new Set(state.accepted);
      for (const field of fields) {
        if (!field.differsFromAi && !field.blocked) accepted.add(field.id);
      }
      return { ...state, accepted };
    }
    case "edit":
      return current ? { ...state, editing: current.id } : state;
    case "stopEditing":
      return { ...state, editing: null };
    case "sign":
      return canSign(fields, state, problems) ? { ...state, signing: true } : state;
    case "closeDialog":
      return { ...state, signing: false, editing: null };
    case "reset":
      return INITIAL;
  }
}
