import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it } from "vitest";
import { App } from "../app/App";
import { fail, ok } from "../test/fakeApi";
import { fakeServer } from "../test/fixtures";
import type { QueueItem, ReviewDetail, ReviewField } from "./api";
import { useLastSigned } from "./lastSigned";

const FRESH = useLastSigned.getState();

beforeEach(() => {
  // The store outlives a page (it carries a sign-out to the next case): start each test afresh.
  useLastSigned.setState(FRESH, true);
});

const MODEL = {
  kind: "model",
  endpoint: "breast-fna",
  model_name: "breast-fna",
  model_version: "1",
  run: "7",
  confidence: 0.88,
};

function field(id: string, value: unknown, extra: Partial<ReviewField> = {}): ReviewField {
  return {
    id,
    section: { en: "Tumour", zh: "肿瘤" },
    labels: { en: `Label ${id}`, zh: `项目 ${id}` },
    type: "number",
    is_required: true,
    unit: "mm",
    answers: [],
    value,
    ai_value: value,
    differs_from_ai: false,
    provenance: [{ kind: "case" }],
    confidence: null,
    derived: false,
    override_reason: "",
    ...extra,
  };
}

function detail(id: number, extra: Partial<ReviewDetail> = {}): ReviewDetail {
  return {
    report_id: id,
    version: 1,
    status: "draft",
    signed: false,
    template: { name: { en: "Breast", zh: "乳腺" }, version: 1 },
    case: {
      id: 3,
      accession: `S26-0000${id}`,
      case_type: "breast-resection",
      priority: "routine",
      patient_name: "Zhang San",
      patient_mrn: "MRN-1",
      clinical_info: "",
      received_at: "2026-12-06T08:00:00Z",
    },
    elements: [
      field("tumour_size_mm", 18),
      field("fna_malignancy_probability", 87.5, { provenance: [MODEL], confidence: 0.88 }),
      field("margin_distance_mm", 2.5, { ai_value: 3.5, differs_from_ai: true }),
    ],
    problems: [],
    overrides: [],
    pdf_url: `/api/v1/reports/${id}/pdf`,
    ...extra,
  };
}

const QUEUE: QueueItem[] = [5, 6].map((id) => ({
  report_id: id,
  version: 1,
  status: "draft",
  accession: `S26-0000${id}`,
  case_id: id,
  case_type: "breast-resection",
  priority: "routine",
  template: "Breast",
  created_at: "2026-12-06T08:00:00Z",
  age_seconds: 600,
  triage: 0.88,
  run_id: id,
  run_status: "waiting_review",
}));

function server() {
  return fakeServer()
    .on("GET /api/v1/review/reports/5", ok(detail(5)))
    .on("GET /api/v1/review/reports/6", ok(detail(6)))
    .on("GET /api/v1/review/queue", ok(QUEUE));
}

describe("the sign-out cockpit", () => {
  it("signs an agreed draft with A, s and the password, then opens the next case", async () => {
    const api = server().on(
      "POST /api/v1/review/reports/5/sign",
      ok({
        report_id: 50,
        version: 2,
        status: "final",
        signed_by: "Dr Li Wei",
        signed_at: "2026-12-06T09:00:00Z",
        sha256: "ab",
        recall_until: new Date(Date.now() + 60_000).toISOString(),
        pdf_url: "/api/v1/reports/50/pdf",
        next_report_id: 6,
      }),
    );
    const user = userEvent.setup();
    render(<App client={api.client} path="/app/review/5" initialLang="en" />);

    await screen.findByTestId("cockpit");
    const rows = screen.getAllByTestId("field-row");
    expect(rows.map((r) => r.dataset.differs)).toEqual(["false", "false", "true"]);
    expect(within(rows[2]!).getByTestId("ai-was").textContent).toBe("AI draft: 3.5 mm");
    expect(rows[1]!.textContent).toContain("breast-fna · model breast-fna v1 · run 7");
    expect(rows[1]!.textContent).toContain("confidence 88%");

    await user.keyboard("As");
    const dialog = await screen.findByTestId("sign-dialog");
    await user.type(within(dialog).getByLabelText("Password"), "secret{Enter}");

    await waitFor(() => expect(screen.getByTestId("cockpit").dataset.report).toBe("6"));
    expect(api.calls("POST /api/v1/review/reports/5/sign")[0]!.body).toEqual({
      password: "secret",
    });
    expect((await screen.findByTestId("signed-banner")).textContent).toContain(
      "Signed S26-00005",
    );
  });

  it("refuses to open the signature while a field waits, and lists what blocks sign-out", async () => {
    const blocked = detail(5, { problems: ["tumour_size_mm: is required"] });
    const api = server().on("GET /api/v1/review/reports/5", ok(blocked));
    const user = userEvent.setup();
    render(<App client={api.client} path="/app/review/5" initialLang="en" />);

    const alert = await screen.findByTestId("sign-blocked");
    expect(alert.textContent).toContain("tumour_size_mm: is required");
    await user.keyboard("As");
    expect(screen.queryByTestId("sign-dialog")).toBeNull();
    expect(screen.getByTestId<HTMLButtonElement>("sign").disabled).toBe(true);
  });

  it("edits the field under the cursor with e and saves it as the person's value", async () => {
    const changed = detail(5);
    changed.elements[0] = field("tumour_size_mm", 21, { ai_value: 18, differs_from_ai: true });
    const api = server().on("POST /api/v1/review/reports/5/fields", ok(changed));
    const user = userEvent.setup();
    render(<App client={api.client} path="/app/review/5" initialLang="en" />);

    await screen.findByTestId("cockpit");
    await user.keyboard("e");
    const input = screen.getByTestId("field-input");
    await user.clear(input);
    await user.type(input, "21{Enter}");

    await waitFor(() =>
      expect(screen.getAllByTestId("field-row")[0]!.dataset.differs).toBe("true"),
    );
    expect(api.calls("POST /api/v1/review/reports/5/fields")[0]!.body).toEqual({
      element: "tumour_size_mm",
      value: 21,
      reason: "",
    });
  });

  it("asks why when a derived field is set against its rule, and sends the reason", async () => {
    const grade = detail(5);
    grade.elements[0] = field("histologic_grade", 2, { derived: true });
    const api = server()
      .on("GET /api/v1/review/reports/5", ok(grade))
      .on("POST /api/v1/review/reports/5/fields", ok(grade));
    const user = userEvent.setup();
    render(<App client={api.client} path="/app/review/5" initialLang="en" />);

    await screen.findByTestId("cockpit");
    await user.keyboard("e");
    const input = screen.getByTestId("field-input");
    await user.clear(input);
    await user.type(input, "3");
    await user.type(screen.getByTestId("override-reason"), "marked atypia{Enter}");

    await waitFor(() =>
      expect(api.calls("POST /api/v1/review/reports/5/fields")[0]!.body).toEqual({
        element: "histologic_grade",
        value: 3,
        reason: "marked atypia",
      }),
    );
  });

  it("opens the next case at once and reports a refused signature with a way back", async () => {
    const api = server().on(
      "POST /api/v1/review/reports/5/sign",
      fail(403, "the password is not correct: the report was not signed"),
    );
    const user = userEvent.setup();
    render(<App client={api.client} path="/app/review/5" initialLang="en" />);

    await screen.findByTestId("cockpit");
    await user.keyboard("As");
    await user.type(screen.getByLabelText("Password"), "wrong{Enter}");

    await waitFor(() => expect(screen.getByTestId("cockpit").dataset.report).toBe("6"));
    const failed = await screen.findByTestId("sign-failed");
    expect(failed.textContent).toContain("S26-00005 was not signed: the password is not correct");
    await user.click(within(failed).getByRole("link", { name: "Open S26-00005 again" }));
    await waitFor(() => expect(screen.getByTestId("cockpit").dataset.report).toBe("5"));
  });

  it("shows the case's slide beside the fields when it has one", async () => {
    const api = server().on(
      "GET /api/v1/cases/3/slides",
      ok({
        case: 3,
        accession: "S26-00005",
        slides: [
          {
            specimen: 9,
            specimen_label: "A",
            index: 0,
            name: "ki67.tiff",
            stain: "Ki-67",
            region: null,
            width: 2048,
            height: 2048,
            microns_per_pixel: 0.5,
            dzi_url: "/api/v1/specimens/9/slides/0.dzi",
            overlay_url: "/api/v1/specimens/9/slides/0/overlay",
            error: "the slide file is missing",
          },
        ],
      }),
    );
    render(<App client={api.client} path="/app/review/5" initialLang="en" />);

    const slides = await screen.findByTestId("cockpit-slides");
    expect(slides.textContent).toContain("the slide file is missing");
    expect(api.calls("GET /api/v1/cases/3/slides")).toHaveLength(1);
  });
});
