import type { Me, Run, RunDetail, RunList } from "../api/models";
import { fakeApi, ok } from "./fakeApi";

export const ME: Me = {
  username: "pathologist",
  display_name: "Dr Li Wei",
  department: { id: 1, code: "pathology", name: "Pathology" },
  role: "pathologist",
};

/** The example from the API contract. */
export const SUCCEEDED_RUN: Run = {
  id: 7,
  status: "succeeded",
  is_test: false,
  rerun_of: null,
  rerun_from_node: "",
  case: { id: 3, accession: "S26-00001" },
  workflow: { slug: "breast-fna-ihc", name: "Breast FNA + Ki-67", version: 1 },
  created_at: "2026-11-27T06:00:00Z",
  started_at: "2026-11-27T06:00:01Z",
  finished_at: "2026-11-27T06:00:03Z",
  error: "",
  report: {
    id: 5,
    status: "draft",
    language: "zh",
    pdf_url: "/api/v1/reports/5/pdf",
    sha256: "ab12...",
  },
  node_runs: [
    {
      node_id: "fna",
      node_type: "model_call",
      title: "FNA classifier",
      status: "succeeded",
      attempt: 1,
      duration_ms: 41,
      error: "",
    },
    {
      node_id: "ihc",
      node_type: "model_call",
      title: "Ki-67 index",
      status: "skipped",
      attempt: 0,
      duration_ms: null,
      error: "",
    },
  ],
};

export const MODEL_DOWN = "model endpoint http://127.0.0.1:9001/predict: connection refused";

export const FAILED_RUN: Run = {
  id: 8,
  status: "failed",
  is_test: false,
  rerun_of: null,
  rerun_from_node: "",
  case: { id: 4, accession: "S26-00002" },
  workflow: { slug: "breast-fna-ihc", name: "Breast FNA + Ki-67", version: 2 },
  created_at: "2026-11-27T06:05:00Z",
  started_at: "2026-11-27T06:05:01Z",
  finished_at: "2026-11-27T06:05:31Z",
  error: "Node 'fna' failed after 3 attempts",
  report: null,
  node_runs: [
    {
      node_id: "fna",
      node_type: "model_call",
      title: "FNA classifier",
      status: "failed",
      attempt: 3,
      duration_ms: 30012,
      error: MODEL_DOWN,
    },
    {
      node_id: "ihc",
      node_type: "model_call",
      title: "Ki-67 index",
      status: "cancelled",
      attempt: 0,
      duration_ms: null,
      error: "",
    },
  ],
};

export const RUNNING_RUN: Run = {
  id: 9,
  status: "running",
  is_test: false,
  rerun_of: null,
  rerun_from_node: "",
  case: { id: 5, accession: "S26-00003" },
  workflow: { slug: "breast-fna-ihc", name: "Breast FNA + Ki-67", version: 2 },
  created_at: "2026-11-27T06:10:00Z",
  started_at: "2026-11-27T06:10:01Z",
  finished_at: null,
  error: "",
  report: null,
  node_runs: [
    {
      node_id: "fna",
      node_type: "model_call",
      title: "FNA classifier",
      status: "running",
      attempt: 1,
      duration_ms: null,
      error: "",
    },
  ],
};

export function runList(...runs: Run[]): RunList {
  return { count: runs.length, results: runs };
}

/** A fake server that knows who is signed in (every screen's header asks). */
export function fakeServer(me: Me = ME) {
  return fakeApi().on("GET /api/v1/me", ok(me));
}

/** A run detail as GET /api/v1/runs/12/ returns it: one step retried, one not reached. */
export const RUN_DETAIL: RunDetail = {
  id: 12,
  status: "failed",
  is_test: false,
  rerun_of: null,
  rerun_from_node: "",
  case: { id: 4, accession: "S26-00002" },
  workflow: {
    slug: "breast-fna-ihc",
    name: "Breast FNA + Ki-67",
    version: 1,
    version_id: 1,
    version_status: "published",
  },
  template: { slug: "breast-carcinoma", name: "Breast carcinoma", version: 3, version_id: 2 },
  created_at: "2026-11-27T06:05:00Z",
  started_at: "2026-11-27T06:05:01Z",
  finished_at: "2026-11-27T06:05:04Z",
  error: "node 'fna' (FNA classifier) failed: HTTP 503",
  report: null,
  requested_by: "Dr Li Wei",
  cancel_requested_at: null,
  cancelled_by: null,
  permissions: { act: true, see_io: true },
  nodes: [
    { node_id: "case", node_type: "case_trigger", title: "Case arrives", reused: false },
    { node_id: "fna", node_type: "model_call", title: "FNA classifier", reused: false },
    { node_id: "report", node_type: "render_report", title: "Draft report", reused: false },
  ],
  node_runs: [
    {
      node_id: "case",
      node_type: "case_trigger",
      title: "Case arrives",
      status: "succeeded",
      attempt: 1,
      duration_ms: 3,
      error: "",
      inputs: {},
      outputs: { case: { accession: "S26-00002", case_type: "breast-resection" } },
      started_at: "2026-11-27T06:05:01.000Z",
      finished_at: "2026-11-27T06:05:01.003Z",
      pinned: false,
    },
    {
      node_id: "fna",
      node_type: "model_call",
      title: "FNA classifier",
      status: "failed",
      attempt: 1,
      duration_ms: 1200,
      error: "HTTP 500",
      inputs: { in: [{ accession: "S26-00002" }] },
      outputs: {},
      started_at: "2026-11-27T06:05:01.010Z",
      finished_at: "2026-11-27T06:05:02.210Z",
      pinned: false,
    },
    {
      node_id: "fna",
      node_type: "model_call",
      title: "FNA classifier",
      status: "failed",
      attempt: 2,
      duration_ms: 1500,
      error: "HTTP 503",
      inputs: { in: [{ accession: "S26-00002" }] },
      outputs: {},
      started_at: "2026-11-27T06:05:02.500Z",
      finished_at: "2026-11-27T06:05:04.000Z",
      pinned: false,
    },
  ],
};
