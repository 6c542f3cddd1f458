import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { App } from "../app/App";
import { fail, ok } from "../test/fakeApi";
import { ME, fakeServer } from "../test/fixtures";
import type { DeliveryDetail, DeliveryQueue } from "./api";

const ADMIN = { ...ME, username: "admin", display_name: "Admin", role: "admin" as const };

const DELIVERY: DeliveryDetail = {
  id: 40,
  status: "failed",
  channel: "mllp",
  destination: "his",
  accession: "S26-00009",
  mrn: "MRN-9",
  report: 5,
  report_version: 1,
  report_status: "final",
  event: "signed",
  control_id: "PF-40",
  idempotency_key: "k40",
  attempts: 2,
  queued_at: "2026-03-01T08:00:00Z",
  next_attempt_at: "2026-03-01T08:00:00Z",
  delivered_at: null,
  last_error: "connection refused",
  resend_of: null,
  created_at: "2026-03-01T08:00:00Z",
  content_type: "application/hl7-v2",
  message: "MSH|^~\\&|PATHFLOW\rPID|1||MRN-9\rOBX|1|ST|x||y\r",
  parsed: [
    { segment: "MSH", fields: { "MSH-3": "PATHFLOW" } },
    { segment: "PID", fields: { "PID-3": "MRN-9" } },
  ],
  attempt_log: [
    {
      number: 1,
      worker: "w1",
      started_at: "2026-03-01T08:00:01Z",
      verdict: "rejected",
      summary: "AE",
      answer: "MSH|^~\\&\rMSA|AE|PF-40",
    },
  ],
  resends: [],
};

const QUEUES: DeliveryQueue[] = [
  {
    destination: "his",
    name: "Hospital HIS",
    channel: "mllp",
    enabled: true,
    depth: 3,
    oldest_undelivered_at: "2026-03-01T08:00:00Z",
    oldest_age_s: 3900,
    held: false,
    alert: { id: 1, kind: "backlog", summary: "HIS has not answered for 1 h", opened_at: "2026-03-01T08:10:00Z" },
  },
];

function list<T>(...rows: T[]) {
  return ok({ count: rows.length, next: null, previous: null, results: rows });
}

describe("Message console", () => {
  it("shows the outbound queues and filters deliveries through the API from the URL", async () => {
    const server = fakeServer(ADMIN)
      .on("GET /api/v1/delivery-queues", ok(QUEUES))
      .on("GET /api/v1/deliveries/", list(DELIVERY));
    const user = userEvent.setup();
    render(<App client={server.client} path="/app/messages?tab=outbound&q=S26-00009" initialLang="en" />);

    const queues = await screen.findByTestId("queue-summary");
    const row = within(queues).getByRole("row", { name: /Hospital HIS/ });
    expect(row.textContent).toContain("3");
    expect(row.textContent).toContain("1 h 5 min");
    expect(row.textContent).toContain("HIS has not answered for 1 h");
    expect(await screen.findAllByTestId("outbound-row")).toHaveLength(1);
    expect(server.calls("GET /api/v1/deliveries/")[0]?.query.get("accession")).toBe("S26-00009");

    await user.selectOptions(screen.getByLabelText("Status"), "failed");
    await user.click(screen.getByRole("button", { name: "Search" }));
    await waitFor(() =>
      expect(server.calls("GET /api/v1/deliveries/").at(-1)?.query.get("status")).toBe("failed"),
    );
    expect(server.calls("GET /api/v1/deliveries/").at(-1)?.query.get("accession")).toBe("S26-00009");

    await user.selectOptions(screen.getByLabelText("Destination"), "Hospital HIS");
    await user.click(screen.getByRole("button", { name: "Search" }));
    await waitFor(() =>
      expect(server.calls("GET /api/v1/deliveries/").at(-1)?.query.get("destination")).toBe("his"),
    );
  });

  it("resends after confirming, links the new delivery, and shows a refusal as text", async () => {
    const server = fakeServer(ADMIN)
      .on("GET /api/v1/deliveries/40/", ok(DELIVERY))
      .on(
        "POST /api/v1/deliveries/40/resend",
        fail(409, "the report version was withdrawn"),
        { status: 201, body: { ...DELIVERY, id: 41, status: "queued", resend_of: 40, attempt_log: [] } },
      );
    const user = userEvent.setup();
    render(<App client={server.client} path="/app/messages/outbound/40" initialLang="en" />);

    expect(await screen.findByRole("heading", { name: "Delivery 40" })).toBeTruthy();
    const raw = await screen.findByTestId("msg-raw");
    expect(Array.from(raw.children).map((line) => line.textContent)).toEqual([
      "MSH|^~\\&|PATHFLOW",
      "PID|1||MRN-9",
      "OBX|1|ST|x||y",
    ]);
    expect(within(screen.getByTestId("msg-parsed")).getByRole("row", { name: /PID-3/ }).textContent).toContain("MRN-9");
    expect(screen.getByText("MSA|AE|PF-40", { exact: false })).toBeTruthy();

    await user.click(screen.getByRole("button", { name: "Resend" }));
    expect(server.calls("POST /api/v1/deliveries/40/resend")).toHaveLength(0);
    await user.click(screen.getByRole("button", { name: "Yes, go ahead" }));
    expect(await screen.findByText("Refused: the report version was withdrawn")).toBeTruthy();

    await user.click(screen.getByRole("button", { name: "Resend" }));
    await user.click(screen.getByRole("button", { name: "Yes, go ahead" }));
    const created = await screen.findByTestId("msg-created");
    expect(created.textContent).toContain("Created message 41");
    expect(within(created).getByRole("link", { name: "#41" }).getAttribute("href")).toBe(
      "/app/messages/outbound/41",
    );
  });

  it("is not offered to a pathologist", async () => {
    const server = fakeServer();
    render(<App client={server.client} path="/app/messages" initialLang="zh" />);
    await screen.findByTestId("current-user");
    expect(screen.queryByRole("heading", { name: "消息控制台" })).toBeNull();
    expect(screen.queryByRole("link", { name: "消息" })).toBeNull();
    expect(server.calls("GET /api/v1/integration/inbound-messages/")).toHaveLength(0);
  });
});
