import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { RunDetail, RunProgress } from "../api/models";
import { App } from "../app/App";
import { fail, ok } from "../test/fakeApi";
import { fakeServer, ME, RUN_DETAIL, runList } from "../test/fixtures";

const DETAIL = "GET /api/v1/runs/12/";
const PROGRESS = "GET /api/v1/runs/12/progress/";

function serverWith(runs: RunDetail[], progress: RunProgress[] = [], me = ME) {
  const server = fakeServer(me).on("GET /api/v1/runs/", ok(runList())).on(DETAIL, ...runs.map(ok));
  return progress.length ? server.on(PROGRESS, ...progress.map(ok)) : server;
}

function renderDetail(server: ReturnType<typeof serverWith>, path = "/app/runs/12") {
  return render(<App client={server.client} path={path} initialLang="en" pollMs={10} />);
}

const RUNNING: RunDetail = {
  ...RUN_DETAIL,
  status: "running",
  error: "",
  finished_at: null,
  node_runs: [
    RUN_DETAIL.node_runs[0]!,
    { ...RUN_DETAIL.node_runs[1]!, status: "running", error: "", duration_ms: null, finished_at: null },
  ],
};

const SUCCEEDED: RunDetail = {
  ...RUNNING,
  status: "succeeded",
  finished_at: "2026-11-27T06:05:09Z",
  report: { id: 5, status: "draft", language: "zh", pdf_url: "/api/v1/reports/5/pdf", sha256: "ab" },
  node_runs: [
    RUNNING.node_runs[0]!,
    {
      ...RUNNING.node_runs[1]!,
      status: "succeeded",
      duration_ms: 800,
      outputs: { result: { predict_proba: [[0.1, 0.9]] } },
      finished_at: "2026-11-27T06:05:08Z",
    },
  ],
};

function progress(status: RunProgress["status"], changed: RunProgress["node_runs"]): RunProgress {
  return {
    id: 12,
    status,
    active: status === "running",
    error: "",
    started_at: null,
    finished_at: null,
    cancel_requested_at: null,
    cursor: "c",
    node_runs: changed,
  };
}

describe("Run detail", () => {
  it("offers an admin to open a failed run in the editor, with its version and outputs", async () => {
    renderDetail(serverWith([RUN_DETAIL], [], { ...ME, username: "admin", role: "admin" }));
    const link = await screen.findByTestId("open-in-editor");
    expect(link.getAttribute("href")).toBe("/app/studio/workflows/breast-fna-ihc?from_run=12");
    expect(link.textContent).toBe("Open in editor");
  });

  it("does not offer the editor to a pathologist", async () => {
    renderDetail(serverWith([RUN_DETAIL]));
    await screen.findAllByTestId("detail-node");
    expect(screen.queryByTestId("open-in-editor")).toBeNull();
  });

  it("lists the steps in order with every attempt, errors and collapsible inputs/outputs", async () => {
    const server = serverWith([RUN_DETAIL]);
    const user = userEvent.setup();
    renderDetail(server);

    const steps = await screen.findAllByTestId("detail-node");
    expect(steps.map((s) => s.dataset.nodeId)).toEqual(["case", "fna", "report"]);
    expect(steps.map((s) => s.dataset.status)).toEqual(["succeeded", "failed", "pending"]);
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe("Run 12");
    expect(screen.getByTestId("detail-workflow").textContent).toContain("Breast FNA + Ki-67 v1");
    expect(screen.getByText("Breast carcinoma")).toBeTruthy();
    expect(screen.getByTestId("detail-run-error").textContent).toContain("HTTP 503");

    const fna = steps[1]!;
    expect(fna.textContent).toContain("2 attempts");
    const attempts = within(fna).getAllByTestId("node-attempt");
    expect(attempts.map((a) => within(a).getByTestId("attempt-error").textContent)).toEqual([
      "HTTP 500",
      "HTTP 503",
    ]);
    expect(attempts[1]!.textContent).toContain("1.5 s");
    expect(steps[2]!.textContent).toContain("Not run");

    // Inputs and outputs are folded until asked for.
    const outputs = within(steps[0]!).getByTestId("node-outputs");
    expect(outputs.hasAttribute("open")).toBe(false);
    await user.click(within(outputs).getByText("Outputs"));
    expect(outputs.hasAttribute("open")).toBe(true);
    expect(outputs.querySelector("pre")?.textContent).toContain('"case_type": "breast-resection"');
    expect(screen.queryByTestId("detail-live")).toBeNull();
    expect(server.calls(PROGRESS)).toHaveLength(0);
  });

  it("follows a running run live and stops when it ends", async () => {
    const running = progress("running", []);
    const done = progress("succeeded", [
      {
        node_id: "fna",
        node_type: "model_call",
        attempt: 1,
        status: "succeeded",
        error: "",
        started_at: null,
        finished_at: null,
        duration_ms: 800,
      },
    ]);
    const server = serverWith([RUNNING, SUCCEEDED], [running, done]);
    renderDetail(server);

    expect(await screen.findByTestId("detail-live")).toBeTruthy();
    await waitFor(() => {
      expect(screen.getAllByTestId("detail-node")[1]!.dataset.status).toBe("succeeded");
    });
    expect(screen.queryByTestId("detail-live")).toBeNull();
    expect(screen.getByTestId("detail-pdf").getAttribute("href")).toBe("/api/v1/reports/5/pdf");
    // The first poll asks after the newest checkpoint shown.
    expect(server.calls(PROGRESS)[0]?.query.get("since")).toBe("2026-11-27T06:05:01.010Z");
    expect(server.calls(PROGRESS)[1]?.query.get("since")).toBe("c");
    expect(server.calls(DETAIL)).toHaveLength(2);

    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.calls(PROGRESS)).toHaveLength(2);
  });

  it("cancels an active run after confirmation", async () => {
    const cancelled: RunDetail = {
      ...RUNNING,
      status: "cancelled",
      cancel_requested_at: "2026-11-27T06:05:05Z",
      cancelled_by: "Dr Li Wei",
    };
    const CANCEL = "POST /api/v1/runs/12/cancel/";
    const server = serverWith([RUNNING]);
    server.on(CANCEL, ok(cancelled));
    server.on(PROGRESS, () =>
      ok(server.calls(CANCEL).length ? { ...progress("cancelled", []), active: false } : progress("running", [])),
    );
    const user = userEvent.setup();
    renderDetail(server);

    await user.click(await screen.findByRole("button", { name: "Cancel run" }));
    expect(server.calls("POST /api/v1/runs/12/cancel/")).toHaveLength(0);
    await user.click(screen.getByRole("button", { name: "Yes, cancel the run" }));

    await waitFor(() => {
      expect(screen.getByRole("heading", { level: 1 }).nextElementSibling?.textContent).toBe(
        "Cancelled",
      );
    });
    expect(server.calls("POST /api/v1/runs/12/cancel/")).toHaveLength(1);
    expect(screen.queryByRole("button", { name: "Cancel run" })).toBeNull();
  });

  it("re-runs from a step and opens the new run", async () => {
    const server = serverWith([RUN_DETAIL]);
    const rerun: RunDetail = { ...RUN_DETAIL, id: 13, status: "succeeded", rerun_of: 12, rerun_from_node: "fna" };
    server.on("POST /api/v1/runs/12/rerun/", { status: 201, body: rerun });
    server.on("GET /api/v1/runs/13/", ok(rerun));
    const user = userEvent.setup();
    renderDetail(server);

    const fna = (await screen.findAllByTestId("detail-node"))[1]!;
    await user.click(within(fna).getByRole("button", { name: "Re-run from step FNA classifier" }));

    expect(server.calls("POST /api/v1/runs/12/rerun/")[0]?.body).toEqual({ from_node: "fna" });
    expect(await screen.findByRole("heading", { name: "Run 13" })).toBeTruthy();
    expect(screen.getByText("Re-run of run 12 from step fna").getAttribute("href")).toBe("/app/runs/12");
  });

  it("shows why an action was refused", async () => {
    const server = serverWith([RUN_DETAIL]);
    server.on("POST /api/v1/runs/12/rerun/", fail(400, "run 12 is still running"));
    const user = userEvent.setup();
    renderDetail(server);

    const buttons = await screen.findAllByRole("button", { name: /^Re-run from step/ });
    await user.click(buttons[0]!);

    expect((await screen.findByTestId("detail-action-error")).textContent).toBe(
      "Action failed: run 12 is still running",
    );
  });

  it("shows a clinician statuses without inputs, outputs or actions", async () => {
    const node_runs = RUN_DETAIL.node_runs.map((a) => ({ ...a, inputs: null, outputs: null }));
    const server = serverWith([
      { ...RUN_DETAIL, node_runs, permissions: { act: false, see_io: false } },
    ]);
    renderDetail(server);

    expect(await screen.findByTestId("io-withheld")).toBeTruthy();
    expect(screen.queryAllByTestId("node-inputs")).toHaveLength(0);
    expect(screen.queryAllByTestId("rerun-from")).toHaveLength(0);
    expect(screen.getAllByTestId("node-attempt")).toHaveLength(3);
  });

  it("is reached at its own URL and from an old hash link, in Chinese too", async () => {
    window.location.hash = "#/runs/12";
    const server = serverWith([{ ...RUN_DETAIL, is_test: true }]);
    const user = userEvent.setup();
    renderDetail(server, "/app/");

    expect(await screen.findByTestId("test-run-tag")).toBeTruthy();
    expect(server.calls(DETAIL)).toHaveLength(1);
    await user.selectOptions(screen.getByTestId("lang-switch"), "zh");
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe("运行 12");
    expect(screen.getAllByRole("button", { name: /^从步骤/ })).toHaveLength(3);

    await user.click(screen.getByRole("link", { name: "← 全部运行记录" }));
    expect(await screen.findByTestId("runs-empty")).toBeTruthy();
    window.location.hash = "";
  });

  it("answers a run id that is not a number with the not-found page", async () => {
    renderDetail(serverWith([RUN_DETAIL]), "/app/runs/abc");
    expect(await screen.findByTestId("not-found")).toBeTruthy();
  });
});
