import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { App } from "../App";
import { ApiError } from "../api/client";
import type { ApiClient } from "../api/client";
import type { RunList } from "../api/types";
import { LANG_STORAGE_KEY } from "../i18n";
import {
  FAILED_RUN,
  ME,
  MODEL_DOWN,
  NO_RUN_DETAIL,
  RUNNING_RUN,
  SUCCEEDED_RUN,
  runList,
} from "../test/fixtures";

function fakeClient(...responses: (RunList | Error)[]) {
  const queue = [...responses];
  const listRuns = vi.fn<ApiClient["listRuns"]>(() => {
    // The last response repeats for any further calls.
    const next = queue.length > 1 ? queue.shift() : queue[0];
    if (next === undefined) throw new Error("no response queued");
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  });
  const getMe = vi.fn<ApiClient["getMe"]>(() => Promise.resolve(ME));
  return { client: { ...NO_RUN_DETAIL, listRuns, getMe } satisfies ApiClient, listRuns, getMe };
}

describe("Runs page", () => {
  it("renders runs, the PDF link, a failed node's error and Chinese labels", async () => {
    const { client } = fakeClient(runList(SUCCEEDED_RUN, FAILED_RUN));
    const user = userEvent.setup();
    render(<App client={client} initialLang="en" />);

    expect(screen.getByTestId("runs-loading")).toHaveProperty("textContent", "Loading runs…");
    const table = await screen.findByTestId("runs-table");
    expect(await screen.findByTestId("current-user")).toHaveProperty("textContent", "Dr Li Wei");

    const rows = within(table).getAllByTestId("run-row");
    expect(rows.map((r) => r.dataset.status)).toEqual(["succeeded", "failed"]);
    expect(rows[0]?.textContent).toContain("S26-00001");
    expect(rows[0]?.textContent).toContain("Breast FNA + Ki-67");
    expect(rows[0]?.textContent).toContain("v1");
    expect(rows[0]?.textContent).toContain("2.0 s");

    // PDF link only where a report exists.
    const pdfLinks = screen.getAllByTestId("run-pdf");
    expect(pdfLinks).toHaveLength(1);
    expect(pdfLinks[0]?.getAttribute("href")).toBe("/api/v1/reports/5/pdf");
    expect(pdfLinks[0]?.getAttribute("target")).toBe("_blank");
    expect(within(rows[0]!).getByTestId("run-pdf")).toBe(pdfLinks[0]);

    // Expanding the failed run shows its steps; the failed model call's error is red.
    expect(screen.queryAllByTestId("node-run")).toHaveLength(0);
    await user.click(rows[1]!);
    const nodes = screen.getAllByTestId("node-run");
    expect(nodes.map((n) => n.dataset.status)).toEqual(["failed", "pending"]);
    const nodeError = within(nodes[0]!).getByText(MODEL_DOWN);
    expect(nodeError.className).toContain("error-text");
    expect(nodes[0]?.textContent).toContain("FNA classifier");
    expect(nodes[0]?.textContent).toContain("model_call");
    expect(nodes[0]?.textContent).toContain("30 s");
    expect(screen.getByText("Node 'fna' failed after 3 attempts", { selector: ".run-error *, .run-error" }))
      .toBeTruthy();
    const disclosure = within(rows[1]!).getByRole("button");
    expect(disclosure.getAttribute("aria-expanded")).toBe("true");

    // Clicking again folds it.
    await user.click(disclosure);
    expect(screen.queryAllByTestId("node-run")).toHaveLength(0);
    await user.click(rows[1]!);

    // Switch to Chinese.
    await user.selectOptions(screen.getByTestId("lang-switch"), "zh");
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe("运行记录");
    expect(screen.getByRole("columnheader", { name: "病例号" })).toBeTruthy();
    expect(screen.getByRole("columnheader", { name: "工作流" })).toBeTruthy();
    expect(within(rows[0]!).getByText("成功")).toBeTruthy();
    expect(within(rows[1]!).getByText("失败")).toBeTruthy();
    expect(within(screen.getAllByTestId("node-run")[1]!).getByText("等待中")).toBeTruthy();
    expect(screen.getByRole("button", { name: "退出登录" })).toBeTruthy();
    expect(window.localStorage.getItem(LANG_STORAGE_KEY)).toBe("zh");
    expect(document.documentElement.lang).toBe("zh-CN");
  });

  it("uses the stored language on start", async () => {
    window.localStorage.setItem(LANG_STORAGE_KEY, "zh");
    const { client } = fakeClient(runList());
    render(<App client={client} />);
    expect(await screen.findByTestId("runs-empty")).toHaveProperty("textContent", "暂无运行记录");
    expect(screen.getByTestId<HTMLSelectElement>("lang-switch").value).toBe("zh");
  });

  it("shows the empty state", async () => {
    const { client } = fakeClient(runList());
    render(<App client={client} initialLang="en" />);
    expect(await screen.findByTestId("runs-empty")).toHaveProperty("textContent", "No runs yet");
    expect(screen.queryByTestId("runs-table")).toBeNull();
  });

  it("shows the server's error message and can retry", async () => {
    const { client, listRuns } = fakeClient(
      new ApiError(500, "database is locked"),
      runList(SUCCEEDED_RUN),
    );
    const user = userEvent.setup();
    render(<App client={client} initialLang="en" />);
    const error = await screen.findByTestId("runs-error");
    expect(error.getAttribute("role")).toBe("alert");
    expect(error.textContent).toContain("database is locked");

    await user.click(within(error).getByRole("button", { name: "Try again" }));
    expect(await screen.findByTestId("runs-table")).toBeTruthy();
    expect(listRuns).toHaveBeenCalledTimes(2);
  });

  it("does not show an error while redirecting to the login page", async () => {
    const { client } = fakeClient(new ApiError(401, "Authentication credentials were not provided."));
    render(<App client={client} initialLang="en" />);
    expect(await screen.findByText("Redirecting to sign in…")).toBeTruthy();
    expect(screen.queryByTestId("runs-error")).toBeNull();
  });

  it("polls while a run is active and stops when none is", async () => {
    const finished = { ...RUNNING_RUN, status: "succeeded" as const, finished_at: "2026-11-27T06:10:09Z" };
    const { client, listRuns } = fakeClient(
      runList(RUNNING_RUN),
      runList(RUNNING_RUN),
      runList(finished),
    );
    render(<App client={client} initialLang="en" pollMs={10} />);

    expect(await screen.findByTestId("runs-polling")).toBeTruthy();
    await waitFor(() => {
      expect(screen.getByTestId("run-row").dataset.status).toBe("succeeded");
    });
    expect(listRuns).toHaveBeenCalledTimes(3);
    expect(screen.queryByTestId("runs-polling")).toBeNull();
    expect(screen.getByTestId("run-row").textContent).toContain("8.0 s");

    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(listRuns).toHaveBeenCalledTimes(3);
  });

  it("announces a failed refresh, keeps the list and keeps trying", async () => {
    const { client, listRuns } = fakeClient(
      runList(RUNNING_RUN),
      new ApiError(502, "orchestrator unavailable"),
      runList({ ...RUNNING_RUN, status: "failed", error: "boom", finished_at: "2026-11-27T06:10:05Z" }),
    );
    render(<App client={client} initialLang="en" pollMs={10} />);

    const live = screen.getByTestId("runs-refresh-error");
    expect(live.getAttribute("aria-live")).toBe("polite");
    await waitFor(() => {
      expect(live.textContent).toBe("Refresh failed: orchestrator unavailable");
    });
    expect(screen.getByTestId("run-row").dataset.status).toBe("running");

    await waitFor(() => {
      expect(screen.getByTestId("run-row").dataset.status).toBe("failed");
    });
    expect(live.textContent).toBe("");
    expect(listRuns).toHaveBeenCalledTimes(3);
  });

  it("signs out with a POST carrying the CSRF token from the cookie", async () => {
    document.cookie = "csrftoken=tok-123";
    const { client } = fakeClient(runList());
    render(<App client={client} initialLang="en" />);
    await screen.findByTestId("runs-empty");

    const button = screen.getByRole("button", { name: "Sign out" });
    const form = button.closest("form")!;
    expect(form.getAttribute("method")).toBe("post");
    expect(form.getAttribute("action")).toBe("/accounts/logout/");
    fireEvent.submit(form);
    const token = form.querySelector<HTMLInputElement>('input[name="csrfmiddlewaretoken"]');
    expect(token?.value).toBe("tok-123");
  });
});
