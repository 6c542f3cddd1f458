import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { App } from "../App";
import { ApiError } from "../api/client";
import type { ApiClient } from "../api/client";
import type { RunDetail, RunProgress } from "../api/types";
import { I18nProvider } from "../i18n";
import { ME, RUN_DETAIL, runList } from "../test/fixtures";
import { RunDetailPage } from "./RunDetailPage";

type Answer<T> = T | Error;

function queue<T>(answers: Answer<T>[]) {
  const items = [...answers];
  return () => {
    // The last answer repeats for any further calls.
    const next = items.length > 1 ? items.shift() : items[0];
    if (next === undefined) return Promise.reject(new Error("no answer queued"));
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  };
}

function fakeClient(runs: Answer<RunDetail>[], progress: Answer<RunProgress>[] = []) {
  const client = {
    getMe: vi.fn<ApiClient["getMe"]>(() => Promise.resolve(ME)),
    listRuns: vi.fn<ApiClient["listRuns"]>(() => Promise.resolve(runList())),
    getRun: vi.fn<ApiClient["getRun"]>(queue(runs)),
    getRunProgress: vi.fn<ApiClient["getRunProgress"]>(queue(progress)),
    cancelRun: vi.fn<ApiClient["cancelRun"]>(),
    rerunRun: vi.fn<ApiClient["rerunRun"]>(),
  } satisfies ApiClient;
  return client;
}

function renderDetail(client: ApiClient, props: { onNavigate?: (href: string) => void } = {}) {
  return render(
    <I18nProvider initial="en">
      <RunDetailPage id={12} client={client} pollMs={10} {...props} />
    </I18nProvider>,
  );
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
  return { id: 12, status, active: status === "running", error: "", cursor: "c", node_runs: changed };
}

afterEach(() => {
  window.location.hash = "";
});

describe("Run detail", () => {
  it("lists the steps in order with every attempt, errors and collapsible inputs/outputs", async () => {
    const client = fakeClient([RUN_DETAIL]);
    const user = userEvent.setup();
    renderDetail(client);

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
    expect(client.getRunProgress).not.toHaveBeenCalled();
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
    const client = fakeClient([RUNNING, SUCCEEDED], [running, done]);
    renderDetail(client);

    expect(await screen.findByTestId("detail-live")).toBeTruthy();
    await waitFor(() => {
      expect(screen.getAllByTestId("detail-node")[1]!.dataset.status).toBe("succeeded");
    });
    expect(screen.queryByTestId("detail-live")).toBeNull();
    expect(screen.getByTestId("detail-pdf").getAttribute("href")).toBe("/api/v1/reports/5/pdf");
    // The first poll asks after the newest checkpoint shown.
    expect(client.getRunProgress.mock.calls[0]?.[1]).toBe("2026-11-27T06:05:01.010Z");
    expect(client.getRunProgress.mock.calls[1]?.[1]).toBe("c");
    expect(client.getRun).toHaveBeenCalledTimes(2);

    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(client.getRunProgress).toHaveBeenCalledTimes(2);
  });

  it("cancels an active run after confirmation", async () => {
    const cancelled: RunDetail = {
      ...RUNNING,
      status: "cancelled",
      cancel_requested_at: "2026-11-27T06:05:05Z",
      cancelled_by: "Dr Li Wei",
    };
    const client = fakeClient([RUNNING], [progress("running", [])]);
    client.cancelRun.mockResolvedValue(cancelled);
    const user = userEvent.setup();
    renderDetail(client);

    await user.click(await screen.findByRole("button", { name: "Cancel run" }));
    expect(client.cancelRun).not.toHaveBeenCalled();
    await user.click(screen.getByRole("button", { name: "Yes, cancel the run" }));

    await waitFor(() => {
      expect(screen.getByRole("heading", { level: 1 }).nextElementSibling?.textContent).toBe(
        "Cancelled",
      );
    });
    expect(client.cancelRun).toHaveBeenCalledWith(12);
    expect(screen.queryByRole("button", { name: "Cancel run" })).toBeNull();
  });

  it("re-runs from a step and opens the new run", async () => {
    const client = fakeClient([RUN_DETAIL]);
    client.rerunRun.mockResolvedValue({ ...RUN_DETAIL, id: 13, status: "queued" });
    const onNavigate = vi.fn();
    const user = userEvent.setup();
    renderDetail(client, { onNavigate });

    const fna = (await screen.findAllByTestId("detail-node"))[1]!;
    await user.click(within(fna).getByRole("button", { name: "Re-run from step FNA classifier" }));

    expect(client.rerunRun).toHaveBeenCalledWith(12, "fna");
    await waitFor(() => expect(onNavigate).toHaveBeenCalledWith("#/runs/13"));
  });

  it("shows why an action was refused", async () => {
    const client = fakeClient([RUN_DETAIL]);
    client.rerunRun.mockRejectedValue(new ApiError(400, "run 12 is still running"));
    const user = userEvent.setup();
    renderDetail(client);

    const buttons = await screen.findAllByRole("button", { name: /^Re-run from step/ });
    await user.click(buttons[0]!);

    expect((await screen.findByTestId("detail-action-error")).textContent).toBe(
      "Action failed: run 12 is still running",
    );
  });

  it("shows a clinician statuses without inputs, outputs or actions", async () => {
    const node_runs = RUN_DETAIL.node_runs.map((a) => ({ ...a, inputs: null, outputs: null }));
    const client = fakeClient([
      { ...RUN_DETAIL, node_runs, permissions: { act: false, see_io: false } },
    ]);
    renderDetail(client);

    expect(await screen.findByTestId("io-withheld")).toBeTruthy();
    expect(screen.queryAllByTestId("node-inputs")).toHaveLength(0);
    expect(screen.queryAllByTestId("rerun-from")).toHaveLength(0);
    expect(screen.getAllByTestId("node-attempt")).toHaveLength(3);
  });

  it("is reached from the runs list by its hash route, in Chinese too", async () => {
    window.location.hash = "#/runs/12";
    const client = fakeClient([{ ...RUN_DETAIL, is_test: true }]);
    const user = userEvent.setup();
    render(<App client={client} initialLang="en" />);

    expect(await screen.findByTestId("test-run-tag")).toBeTruthy();
    expect(client.getRun.mock.calls[0]?.[0]).toBe(12);
    await user.selectOptions(screen.getByTestId("lang-switch"), "zh");
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe("运行 12");
    expect(screen.getAllByRole("button", { name: /^从步骤/ })).toHaveLength(3);

    window.location.hash = "#/";
    window.dispatchEvent(new HashChangeEvent("hashchange"));
    expect(await screen.findByTestId("runs-empty")).toBeTruthy();
  });
});
