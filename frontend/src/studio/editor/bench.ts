// The test bench's pure parts: the run's timeline (bars per node attempt and per map item,
// packed into lanes), pinned outputs (kept per workflow in this browser) and which nodes an
// edit made stale since the last test run. No React here.
import type { NodeAttempt, RunDetail } from "../../api/models";
import type { GraphSpec, SpecEdge, SpecNode } from "../../lib/graph";

// --- timeline ----------------------------------------------------------------------------------

export interface Interval {
  start: number;
  end: number;
}

/** Greedy interval partitioning: each interval gets the lowest lane free at its start, so
 * intervals that overlap in time never share a lane and the lane count is the most that ran
 * at once. Returned in the order given. */
export function packLanes<T extends Interval>(items: readonly T[]): { item: T; lane: number }[] {
  const order = items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => a.item.start - b.item.start || a.item.end - b.item.end || a.index - b.index);
  const laneEnds: number[] = [];
  const lanes = new Array<number>(items.length);
  for (const { item, index } of order) {
    let lane = laneEnds.findIndex((end) => end <= item.start);
    if (lane === -1) {
      lane = laneEnds.length;
      laneEnds.push(item.end);
    } else {
      laneEnds[lane] = item.end;
    }
    lanes[index] = lane;
  }
  return items.map((item, index) => ({ item, lane: lanes[index]! }));
}

/** The most intervals that overlap at one instant (touching ends do not overlap). */
export function mostAtOnce(intervals: readonly Interval[]): number {
  const lanes = packLanes(intervals);
  return lanes.reduce((most, { lane }) => Math.max(most, lane + 1), 0);
}

export interface Bar extends Interval {
  kind: "attempt" | "item";
  label: string;
  status: string;
  pinned: boolean;
  /** Lane within its row: attempts in lane 0, a map's items packed below it. */
  lane: number;
}

export interface TimelineRow {
  nodeId: string;
  /** Nesting depth: a sub-workflow's nodes ("parent/child") are one deeper. */
  depth: number;
  bars: Bar[];
  lanes: number;
  /** Time the node's attempts took, in ms. */
  busyMs: number;
}

export interface Timeline extends Interval {
  rows: TimelineRow[];
  /** The most node attempts that ran at the same time. */
  parallel: number;
}

interface ItemTiming {
  index: number;
  started_at: string;
  finished_at: string;
}

function itemTimings(attempt: NodeAttempt): ItemTiming[] {
  const outputs = attempt.outputs as { items?: unknown } | null | undefined;
  if (attempt.node_type !== "map" || !Array.isArray(outputs?.items)) return [];
  return outputs.items.filter(
    (t): t is ItemTiming =>
      typeof t === "object" &&
      t !== null &&
      typeof (t as ItemTiming).started_at === "string" &&
      typeof (t as ItemTiming).finished_at === "string",
  );
}

const ms = (stamp: string | null | undefined): number | null => {
  if (!stamp) return null;
  const value = Date.parse(stamp);
  return Number.isNaN(value) ? null : value;
};

/** The run's timeline: one row per node (in the order they started), a bar per attempt from
 * its start to its end (``nowMs`` for one still running), and a bar per map item. */
export function timelineOf(run: Pick<RunDetail, "node_runs">, nowMs: number): Timeline {
  const byNode = new Map<string, NodeAttempt[]>();
  for (const attempt of run.node_runs) {
    if (ms(attempt.started_at) === null) continue; // never started (e.g. skipped)
    byNode.set(attempt.node_id, [...(byNode.get(attempt.node_id) ?? []), attempt]);
  }
  const rows: TimelineRow[] = [];
  const attemptsBars: Interval[] = [];
  for (const [nodeId, attempts] of byNode) {
    attempts.sort((a, b) => a.attempt - b.attempt);
    const bars: Bar[] = [];
    let busyMs = 0;
    for (const a of attempts) {
      const start = ms(a.started_at)!;
      const end = Math.max(start, ms(a.finished_at) ?? (a.status === "running" ? nowMs : start));
      busyMs += end - start;
      bars.push({ kind: "attempt", label: `#${a.attempt}`, status: a.status, pinned: a.pinned, start, end, lane: 0 });
      if (!a.pinned) attemptsBars.push({ start, end });
      const items = itemTimings(a).map((t) => ({
        index: t.index,
        start: ms(t.started_at) ?? start,
        end: ms(t.finished_at) ?? start,
      }));
      for (const { item, lane } of packLanes(items)) {
        bars.push({
          kind: "item",
          label: `[${item.index}]`,
          status: "succeeded",
          pinned: false,
          start: item.start,
          end: item.end,
          lane: lane + 1,
        });
      }
    }
    const lanes = bars.reduce((n, b) => Math.max(n, b.lane + 1), 1);
    rows.push({ nodeId, depth: nodeId.split("/").length - 1, bars, lanes, busyMs });
  }
  rows.sort(
    (a, b) =>
      Math.min(...a.bars.map((x) => x.start)) - Math.min(...b.bars.map((x) => x.start)) ||
      a.nodeId.localeCompare(b.nodeId),
  );
  const all = rows.flatMap((r) => r.bars);
  const start = all.length ? Math.min(...all.map((b) => b.start)) : nowMs;
  const end = all.length ? Math.max(...all.map((b) => b.end)) : nowMs;
  return { start, end, rows, parallel: mostAtOnce(attemptsBars) };
}

// --- pins --------------------------------------------------------------------------------------

/** Pinned outputs (port name → value) per node id. */
export type Pins = Record<string, Record<string, unknown>>;

export const pinsKey = (slug: string) => `pathflow.pins.${slug}`;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

export function serialisePins(pins: Pins): string {
  return JSON.stringify({ kind: "pathflow/pins", version: 1, pins });
}

/** Pins read back; anything unreadable (another format, a hand-edited value) is dropped. */
export function parsePins(text: string | null): Pins {
  if (!text) return {};
  try {
    const document = JSON.parse(text) as unknown;
    if (!isObject(document) || document.kind !== "pathflow/pins" || !isObject(document.pins)) return {};
    return Object.fromEntries(Object.entries(document.pins).filter(([, outputs]) => isObject(outputs))) as Pins;
  } catch {
    return {};
  }
}

/** The outputs of every top-level node that succeeded in ``run`` (its last attempt), as pins:
 * opening a run in the editor replays them so only what failed runs again. */
export function pinsFromRun(run: Pick<RunDetail, "node_runs">): Pins {
  const latest = new Map<string, NodeAttempt>();
  for (const attempt of run.node_runs) {
    if (attempt.node_id.includes("/")) continue;
    const seen = latest.get(attempt.node_id);
    if (!seen || seen.attempt < attempt.attempt) latest.set(attempt.node_id, attempt);
  }
  const pins: Pins = {};
  for (const [nodeId, attempt] of latest) {
    if (attempt.status === "succeeded" && isObject(attempt.outputs)) pins[nodeId] = attempt.outputs;
  }
  return pins;
}

// --- stale nodes -------------------------------------------------------------------------------

/** What decides a node's result: everything but its position and title, and what feeds it. */
function fingerprint(node: SpecNode, incoming: readonly SpecEdge[]): string {
  const { position: _p, title: _t, id: _i, ...behaviour } = node;
  const feeds = incoming
    .map((e) => `${e.source}.${e.source_port}>${e.target_port ?? ""}`)
    .sort();
  return JSON.stringify([behaviour, feeds]);
}

function fingerprints(spec: GraphSpec): Map<string, string> {
  const incoming = new Map<string, SpecEdge[]>();
  for (const edge of spec.edges) incoming.set(edge.target, [...(incoming.get(edge.target) ?? []), edge]);
  return new Map(spec.nodes.map((n) => [n.id, fingerprint(n, incoming.get(n.id) ?? [])]));
}

/** Nodes of ``current`` whose result the last test run (of ``ran``) no longer tells: those
 * added or edited since (config, settings or incoming edges) and everything downstream. */
export function staleNodes(ran: GraphSpec, current: GraphSpec): Set<string> {
  const before = fingerprints(ran);
  const now = fingerprints(current);
  const stale = new Set<string>();
  for (const [id, print] of now) if (before.get(id) !== print) stale.add(id);
  const outgoing = new Map<string, string[]>();
  for (const edge of current.edges) outgoing.set(edge.source, [...(outgoing.get(edge.source) ?? []), edge.target]);
  const queue = [...stale];
  while (queue.length) {
    for (const next of outgoing.get(queue.pop()!) ?? []) {
      if (!stale.has(next)) {
        stale.add(next);
        queue.push(next);
      }
    }
  }
  return stale;
}
