// Types for the Pathflow JSON API (/api/v1/). Keep in step with the Django views.

export type RunStatus =
  | "queued"
  | "running"
  | "waiting_review"
  | "succeeded"
  | "failed"
  | "cancelled";

export type NodeRunStatus =
  | "pending"
  | "running"
  | "succeeded"
  | "failed"
  | "skipped"
  | "cancelled"
  | "waiting";

export interface Department {
  id: number;
  name: string;
}

/** GET /api/v1/me */
export interface Me {
  username: string;
  display_name: string;
  department: Department;
  role: string;
}

export interface CaseRef {
  id: number;
  accession: string;
}

export interface WorkflowRef {
  slug: string;
  name: string;
  version: number;
}

export interface Report {
  id: number;
  status: string;
  language: string;
  pdf_url: string;
  sha256: string;
}

export interface NodeRun {
  node_id: string;
  node_type: string;
  title: string;
  status: NodeRunStatus;
  attempt: number;
  duration_ms: number | null;
  error: string;
}

export interface Run {
  id: number;
  status: RunStatus;
  case: CaseRef;
  workflow: WorkflowRef;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** Human-readable; non-empty when status is "failed". */
  error: string;
  report: Report | null;
  /** Test run of a draft on a sample case: never delivered, report stays a draft. */
  is_test?: boolean;
  /** The run this one re-runs from `rerun_from_node`, or null. */
  rerun_of?: number | null;
  rerun_from_node?: string;
  node_runs: NodeRun[];
}

/** GET /api/v1/runs/?limit=N */
export interface RunList {
  count: number;
  results: Run[];
}

/** One attempt of one node; inputs/outputs are null when the user may not see them. */
export interface NodeAttempt extends NodeRun {
  inputs: unknown;
  outputs: unknown;
  started_at: string | null;
  finished_at: string | null;
}

/** A node of the run's graph, in execution order. */
export interface GraphNode {
  node_id: string;
  node_type: string;
  title: string;
  /** Its checkpoint was copied from the run this one re-runs. */
  reused: boolean;
}

/** GET /api/v1/runs/{id}/ */
export interface RunDetail extends Omit<Run, "node_runs"> {
  workflow: WorkflowRef & { version_id: number; version_status: string };
  template: { slug: string; name: string; version: number; version_id: number };
  nodes: GraphNode[];
  /** Every attempt of every node, by node id then attempt. */
  node_runs: NodeAttempt[];
  requested_by: string | null;
  cancel_requested_at: string | null;
  cancelled_by: string | null;
  permissions: { act: boolean; see_io: boolean };
}

export interface ProgressNodeRun {
  node_id: string;
  node_type: string;
  attempt: number;
  status: NodeRunStatus;
  error: string;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
}

/** GET /api/v1/runs/{id}/progress?since=cursor */
export interface RunProgress {
  id: number;
  status: RunStatus;
  /** The run may still change on its own (queued or running). */
  active: boolean;
  error: string;
  cursor: string | null;
  node_runs: ProgressNodeRun[];
}
