// What the canvas draws on top of the graph without being part of it (so never an undo step):
// the palette's node types, validation problems, a test run's node statuses, the test bench's
// pinned outputs and the nodes an edit made stale since the last test run.
import { createContext, useContext } from "react";
import { createStore, useStore } from "zustand";
import type { StoreApi } from "zustand";
import type { GraphSpec, NodeTypeInfo } from "../../lib/graph";
import { placeProblems } from "../../lib/problems";
import type { GraphProblem, PlacedProblems } from "../../lib/problems";
import type { Pins } from "./bench";

export interface Decorations {
  types: ReadonlyMap<string, NodeTypeInfo>;
  problems: PlacedProblems;
  warnings: PlacedProblems;
  /** A test run's latest status per node id. */
  statuses: Readonly<Record<string, string>>;
  /** The test bench's latest run (kept while the bench tab is closed). */
  testRunId: number | null;
  setTestRunId: (id: number | null) => void;
  setTypes: (types: ReadonlyMap<string, NodeTypeInfo>) => void;
  setProblems: (problems: readonly GraphProblem[], warnings: readonly GraphProblem[]) => void;
  setStatuses: (statuses: Record<string, string>) => void;
  /** Outputs pinned per node id: a test run does not call these nodes. */
  pins: Readonly<Pins>;
  setPins: (pins: Pins) => void;
  /** The graph the latest test run ran; edits since make nodes stale. */
  ranSpec: GraphSpec | null;
  setRanSpec: (spec: GraphSpec | null) => void;
  /** Nodes edited since the latest test run, and everything downstream of them. */
  stale: ReadonlySet<string>;
  setStale: (stale: ReadonlySet<string>) => void;
}

export type DecorationStore = StoreApi<Decorations>;

export function createDecorations(): DecorationStore {
  return createStore<Decorations>()((set) => ({
    types: new Map(),
    problems: placeProblems([]),
    warnings: placeProblems([]),
    statuses: {},
    testRunId: null,
    setTestRunId: (testRunId) => set({ testRunId, statuses: {} }),
    setTypes: (types) => set({ types }),
    setProblems: (problems, warnings) =>
      set({ problems: placeProblems(problems), warnings: placeProblems(warnings) }),
    setStatuses: (statuses) => set({ statuses }),
    pins: {},
    setPins: (pins) => set({ pins }),
    ranSpec: null,
    setRanSpec: (ranSpec) => set({ ranSpec, stale: new Set() }),
    stale: new Set(),
    setStale: (stale) => set({ stale }),
  }));
}

const DecorationContext = createContext<DecorationStore | null>(null);
export const DecorationProvider = DecorationContext.Provider;

export function useDecorations<T>(selector: (state: Decorations) => T): T {
  const store = useContext(DecorationContext);
  if (!store) throw new Error("useDecorations must be used inside <DecorationProvider>");
  return useStore(store, selector);
}
