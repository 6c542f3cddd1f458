import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { App } from "../app/App";
import { ok } from "../test/fakeApi";
import { fakeServer } from "../test/fixtures";
import type { QueueItem } from "./api";

function item(id: number, extra: Partial<QueueItem> = {}): QueueItem {
  return {
    report_id: id,
    version: 1,
    status: "draft",
    accession: `S26-0000${id}`,
    case_id: id,
    case_type: "breast-resection",
    priority: "routine",
    template: "Breast",
    created_at: "2026-12-06T08:00:00Z",
    age_seconds: 5400,
    triage: 0.5,
    run_id: id,
    run_status: "waiting_review",
    ...extra,
  };
}

describe("the review queue", () => {
  it("lists drafts with priority, AI triage and waiting time, and asks again when sorted", async () => {
    const api = fakeServer().on(
      "GET /api/v1/review/queue",
      ok([item(1, { priority: "stat", triage: 0.97 }), item(2)]),
    );
    const user = userEvent.setup();
    render(<App client={api.client} path="/app/review" initialLang="zh" />);

    const rows = await screen.findAllByTestId("queue-row");
    expect(rows.map((r) => r.dataset.accession)).toEqual(["S26-00001", "S26-00002"]);
    expect(rows[0]!.textContent).toContain("特急");
    expect(rows[0]!.textContent).toContain("97%");
    expect(rows[1]!.textContent).toContain("1 小时");

    await user.selectOptions(screen.getByTestId("queue-ordering"), "-triage");
    await user.selectOptions(screen.getByTestId("queue-priority"), "stat");
    await waitFor(() => {
      const last = api.calls("GET /api/v1/review/queue").at(-1)!;
      expect(last.query.get("ordering")).toBe("-triage");
      expect(last.query.get("priority")).toBe("stat");
    });
  });

  it("signs the selected drafts with one password and reports each one's outcome", async () => {
    const signed = {
      report_id: 11,
      version: 2,
      status: "final",
      signed_by: "Dr Li Wei",
      signed_at: "2026-12-06T09:00:00Z",
      sha256: "ab",
      recall_until: "2026-12-06T09:01:00Z",
      pdf_url: "/api/v1/reports/11/pdf",
      next_report_id: null,
    };
    const api = fakeServer()
      .on("GET /api/v1/review/queue", ok([item(1), item(2), item(3)]))
      .on(
        "POST /api/v1/review/sign-batch",
        ok([
          { report_id: 1, signed, problems: [] },
          { report_id: 3, signed: null, problems: ["pt_category: is required"] },
        ]),
      );
    const user = userEvent.setup();
    render(<App client={api.client} path="/app/review" initialLang="en" />);

    await screen.findByTestId("queue-table");
    await user.click(screen.getByLabelText("Select S26-00001 for batch sign-out"));
    await user.click(screen.getByLabelText("Select S26-00003 for batch sign-out"));
    await user.click(screen.getByTestId("sign-selected"));
    const dialog = screen.getByTestId("sign-dialog");
    expect(dialog.textContent).toContain("Sign out 2 reports");
    await user.type(within(dialog).getByLabelText("Password"), "secret{Enter}");

    const outcome = await screen.findByTestId("batch-result");
    expect(outcome.textContent).toContain("Signed 1 of 2.");
    expect(outcome.textContent).toContain("S26-00003 not signed: pt_category: is required");
    expect(api.calls("POST /api/v1/review/sign-batch")[0]!.body).toEqual({
      reports: [1, 3],
      password: "secret",
    });
  });
});

describe("start pages", () => {
  it("sends a pathologist's /app/ to the review queue", async () => {
    const api = fakeServer().on("GET /api/v1/review/queue", ok([item(1)]));
    render(<App client={api.client} path="/app/" initialLang="en" />);
    expect(await screen.findByTestId("review-queue")).toBeTruthy();
  });
});
