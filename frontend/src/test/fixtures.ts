import type { Me, Run, RunList } from "../api/types";

export const ME: Me = {
  username: "pathologist",
  display_name: "Dr Li Wei",
  department: { id: 1, name: "Pathology" },
  role: "pathologist",
};

/** The example from the API contract. */
export const SUCCEEDED_RUN: Run = {
  id: 7,
  status: "succeeded",
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
      status: "pending",
      attempt: 0,
      duration_ms: null,
      error: "",
    },
  ],
};

export const RUNNING_RUN: Run = {
  id: 9,
  status: "running",
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
