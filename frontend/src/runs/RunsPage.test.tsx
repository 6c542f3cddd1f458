import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { RunList } from "../api/models";
import { App } from "../app/App";
import type { AppProps } from "../app/App";
import { LANG_STORAGE_KEY } from "../i18n";
import { fail, ok } from "../test/fakeApi";
import type { Answer } from "../test/fakeApi";
import {
  ME,
  FAILED_RUN,
  MODEL_DOWN,
  RUNNING_RUN,
  SUCCEEDED_RUN,
  fakeServer,
  runList,
} from "../test/fixtures";

const LIST = "GET /api/v1/runs/";

function serverWith(...answers: (RunList | Answer)[]) {
  return fakeServer().on(LIST, ...answers.map((a) => ("results" in a ? ok(a) : a)));
}

function renderRuns(server: ReturnType<typeof serverWith>, props: Partial<AppProps> = {}) {
  return render(<App client={server.client} path="/app/runs" initialLang="en" {...props} />);
}

describe("Runs page", () => {
  it("renders runs, the PDF link, a failed node's error and Chinese labels", async () => {
    const server = serverWith(runList(SUCCEEDED_RUN, FAILED_RUN));
    const user = userEvent.setup();
    renderRuns(server);

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
    expect(nodes.map((n) => n.dataset.status)).toEqual(["failed", "cancelled"]);
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
    expect(within(screen.getAllByTestId("node-run")[1]!).getByText("已取消")).toBeTruthy();
    expect(screen.getByRole("link", { name: "运行记录" }).getAttribute("aria-current")).toBe("page");
    expect(screen.getByRole("button", { name: "退出登录" })).toBeTruthy();
    expect(window.localStorage.getItem(LANG_STORAGE_KEY)).toBe("zh");
    expect(document.documentElement.lang).toBe("zh-CN");
  });

  it("uses the stored language on start", async () => {
    window.localStorage.setItem(LANG_STORAGE_KEY, "zh");
    render(<App client={serverWith(runList()).client} path="/app/runs" />);
    expect(await screen.findByTestId("runs-empty")).toHaveProperty("textContent", "暂无运行记录");
    expect(screen.getByTestId<HTMLSelectElement>("lang-switch").value).toBe("zh");
  });

  it("shows the empty state", async () => {
    renderRuns(serverWith(runList()));
    expect(await screen.findByTestId("runs-empty")).toHaveProperty("textContent", "No runs yet");
    expect(screen.queryByTestId("runs-table")).toBeNull();
  });

  it("shows the server's error message and can retry", async () => {
    const server = serverWith(fail(500, "database is locked"), runList(SUCCEEDED_RUN));
    const user = userEvent.setup();
    renderRuns(server);
    const error = await screen.findByTestId("runs-error");
    expect(error.getAttribute("role")).toBe("alert");
    expect(error.textContent).toContain("database is locked");

    await user.click(within(error).getByRole("button", { name: "Try again" }));
    expect(await screen.findByTestId("runs-table")).toBeTruthy();
    expect(server.calls(LIST)).toHaveLength(2);
  });

  it("does not show an error while redirecting to the login page", async () => {
    const server = serverWith(fail(401, "Authentication credentials were not provided."));
    renderRuns(server);
    expect(await screen.findByText("Redirecting to sign in…")).toBeTruthy();
    expect(server.onUnauthorized).toHaveBeenCalled();
    expect(screen.queryByTestId("runs-error")).toBeNull();
  });

  it("polls while a run is active and stops when none is", async () => {
    const finished = { ...RUNNING_RUN, status: "succeeded" as const, finished_at: "2026-11-27T06:10:09Z" };
    const server = serverWith(runList(RUNNING_RUN), runList(RUNNING_RUN), runList(finished));
    renderRuns(server, { pollMs: 10 });

    expect(await screen.findByTestId("runs-polling")).toBeTruthy();
    await waitFor(() => {
      expect(screen.getByTestId("run-row").dataset.status).toBe("succeeded");
    });
    expect(server.calls(LIST)).toHaveLength(3);
    expect(server.calls(LIST)[0]?.query.get("limit")).toBe("50");
    expect(screen.queryByTestId("runs-polling")).toBeNull();
    expect(screen.getByTestId("run-row").textContent).toContain("8.0 s");

    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(server.calls(LIST)).toHaveLength(3);
  });

  it("announces a failed refresh, keeps the list and keeps trying", async () => {
    const server = serverWith(
      runList(RUNNING_RUN),
      fail(502, "orchestrator unavailable"),
      runList({ ...RUNNING_RUN, status: "failed", error: "boom", finished_at: "2026-11-27T06:10:05Z" }),
    );
    renderRuns(server, { pollMs: 10 });

    const live = await screen.findByTestId("runs-refresh-error");
    expect(live.getAttribute("aria-live")).toBe("polite");
    await waitFor(() => {
      expect(live.textContent).toBe("Refresh failed: orchestrator unavailable");
    });
    expect(screen.getByTestId("run-row").dataset.status).toBe("running");

    await waitFor(() => {
      expect(screen.getByTestId("run-row").dataset.status).toBe("failed");
    });
    expect(live.textContent).toBe("");
    expect(server.calls(LIST)).toHaveLength(3);
  });

  it("signs out with a POST carrying the CSRF token from the cookie", async () => {
    document.cookie = "csrftoken=tok-123";
    renderRuns(serverWith(runList()));
    await screen.findByTestId("runs-empty");

    const button = screen.getByRole("button", { name: "Sign out" });
    const form = button.closest("form")!;
    expect(form.getAttribute("method")).toBe("post");
    expect(form.getAttribute("action")).toBe("/accounts/logout/");
    fireEvent.submit(form);
    const token = form.querySelector<HTMLInputElement>('input[name="csrfmiddlewaretoken"]');
    expect(token?.value).toBe("tok-123");
  });

  it("sends /app/ to the runs list and shows a real page for unknown URLs", async () => {
    // An integration engineer's start page is the runs list (a pathologist's is the review
    // queue, a clinician's the portal).
    const server = fakeServer({ ...ME, role: "integration" }).on(
      LIST,
      ok(runList(SUCCEEDED_RUN)),
    );
    const { unmount } = render(<App client={server.client} path="/app/" initialLang="en" />);
    expect(await screen.findByTestId("runs-table")).toBeTruthy();
    unmount();

    render(<App client={server.client} path="/app/no/such/page" initialLang="en" />);
    expect((await screen.findByTestId("not-found")).textContent).toContain("/app/no/such/page");
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe("Page not found");
  });
});
