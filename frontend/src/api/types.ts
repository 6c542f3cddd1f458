// Types for the Pathflow JSON API (/api/v1/). Keep in step with the Django views.

export type RunStatus =
  | "queued"
  | "running"
  | "waiting_review"
  | "succeeded"
  | "failed"
  | "cancelled";

export type NodeRunStatus = "pending" | "running" | "succeeded" | "failed" | "skipped";

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
  node_runs: NodeRun[];
}

/** GET /api/v1/runs/?limit=N */
export interface RunList {
  count: number;
  results: Run[];
}
