// Where on the canvas each validation problem goes: the node, edge or port it names.
import type { components } from "../api/schema";

export type GraphProblem = components["schemas"]["GraphProblemShape"];

export interface PlacedProblems {
  byNode: Map<string, GraphProblem[]>;
  byEdge: Map<string, GraphProblem[]>;
  /** Keyed "<node>:<port>". */
  byPort: Map<string, GraphProblem[]>;
  /** Problems naming no node or edge (the graph as a whole). */
  graph: GraphProblem[];
  /** Template-first: report elements no node fills, each with the render node it names. */
  unfilled: GraphProblem[];
}

function push<K>(map: Map<K, GraphProblem[]>, key: K, problem: GraphProblem): void {
  map.set(key, [...(map.get(key) ?? []), problem]);
}

export function placeProblems(problems: readonly GraphProblem[]): PlacedProblems {
  const placed: PlacedProblems = {
    byNode: new Map(),
    byEdge: new Map(),
    byPort: new Map(),
    graph: [],
    unfilled: [],
  };
  for (const problem of problems) {
    if (problem.element_id) placed.unfilled.push(problem);
    if (problem.edge_id) push(placed.byEdge, problem.edge_id, problem);
    if (problem.node_id) {
      push(placed.byNode, problem.node_id, problem);
      if (problem.port) push(placed.byPort, `${problem.node_id}:${problem.port}`, problem);
    }
    if (!problem.node_id && !problem.edge_id) placed.graph.push(problem);
  }
  return placed;
}
