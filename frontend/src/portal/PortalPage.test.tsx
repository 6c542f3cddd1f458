import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { App } from "../app/App";
import { ok } from "../test/fakeApi";
import { ME, fakeServer } from "../test/fixtures";
import type { CaseReports } from "./api";

const CLINICIAN = { ...ME, username: "clinician", display_name: "Dr Wang", role: "clinician" as const };

const REPORTS: CaseReports = {
  case: {
    case_id: 3,
    accession: "S26-00001",
    case_type: "breast-resection",
    patient_name: "Zhang San",
    patient_mrn: "MRN-1",
    received_at: "2026-12-06T08:00:00Z",
    reports: 2,
  },
  versions: [
    {
      report_id: 12,
      version: 3,
      status: "corrected",
      signed: true,
      recalled: false,
      signed_by: "Dr Li Wei",
      signed_at: "2026-12-06T10:00:00Z",
      reason: "Closest margin misread",
      supersedes: 11,
      replaces_version: 2,
      changes: [
        {
          element: "margin_distance_mm",
          old: 3.5,
          new: 1.5,
          label: { en: "Distance to closest margin", zh: "距最近切缘距离" },
        },
      ],
      pdf_url: "/api/v1/reports/12/pdf",
      created_at: "2026-12-06T10:00:00Z",
    },
    {
      report_id: 11,
      version: 2,
      status: "final",
      signed: true,
      recalled: false,
      signed_by: "Dr Li Wei",
      signed_at: "2026-12-06T09:00:00Z",
      reason: "",
      supersedes: 10,
      replaces_version: null,
      changes: [],
      pdf_url: "/api/v1/reports/11/pdf",
      created_at: "2026-12-06T09:00:00Z",
    },
  ],
};

describe("the clinician portal", () => {
  it("finds a case and shows the correction, what changed and why, and the original", async () => {
    const api = fakeServer(CLINICIAN)
      .on("GET /api/v1/portal/search", ok([REPORTS.case]))
      .on("GET /api/v1/portal/cases/3/reports", ok(REPORTS));
    const user = userEvent.setup();
    render(<App client={api.client} path="/app/portal" initialLang="en" />);

    await user.type(await screen.findByTestId("portal-q"), "MRN-1{Enter}");
    await user.click(await screen.findByLabelText("Open S26-00001"));

    const versions = await screen.findAllByTestId("report-version");
    expect(versions.map((v) => v.dataset.status)).toEqual(["corrected", "final"]);
    const [newest, original] = versions;
    expect(newest!.textContent).toContain("Corrected");
    expect(newest!.textContent).toContain("Reason: Closest margin misread");
    const change = within(newest!).getByTestId("version-changes");
    expect(change.textContent).toContain("Distance to closest margin");
    expect(change.textContent).toContain("3.5");
    expect(change.textContent).toContain("1.5");
    expect(original!.textContent).toContain("Replaced by version 3");
    expect(within(original!).getByTestId("version-pdf").getAttribute("href")).toBe(
      "/api/v1/reports/11/pdf",
    );
    expect(api.calls("GET /api/v1/portal/search")[0]!.query.get("q")).toBe("MRN-1");
  });
});
