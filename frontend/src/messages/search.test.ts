import { describe, expect, it } from "vitest";
import {
  EMPTY_SEARCH,
  formatAge,
  hl7Segments,
  inboundQuery,
  nextDay,
  outboundQuery,
  pageCount,
  paramsFromSearch,
  parseId,
  parsedSegments,
  searchFromParams,
} from "./search";

describe("URL ↔ search state", () => {
  it("reads the tab, the filters and the page from the query string", () => {
    const search = searchFromParams(
      new URLSearchParams(
        "tab=outbound&q=S26-1&mrn=M7&cid=C1&status=failed&dest=his&from=2026-03-01&to=2026-03-02&page=3",
      ),
    );
    expect(search).toEqual({
      tab: "outbound",
      accession: "S26-1",
      mrn: "M7",
      controlId: "C1",
      status: "failed",
      destination: "his",
      from: "2026-03-01",
      to: "2026-03-02",
      page: 3,
    });
  });

  it("falls back to the inbound tab, page 1 and no filter on unknown or malformed values", () => {
    const search = searchFromParams(
      new URLSearchParams("tab=sideways&status=delivered&dest=his&from=yesterday&page=-2"),
    );
    // "delivered" is an outbound status, not an inbound one; inbound has no destination.
    expect(search).toEqual(EMPTY_SEARCH);
  });

  it("writes only what is set and round-trips", () => {
    const search = { ...EMPTY_SEARCH, tab: "outbound" as const, accession: " S26-9 ", page: 2 };
    const params = paramsFromSearch(search);
    expect(params.toString()).toBe("tab=outbound&q=S26-9&page=2");
    expect(searchFromParams(params)).toEqual({ ...search, accession: "S26-9" });
    expect(paramsFromSearch(EMPTY_SEARCH).toString()).toBe("tab=inbound");
  });
});

describe("API queries", () => {
  it("asks the inbound API for the whole local days of the date range", () => {
    const search = { ...EMPTY_SEARCH, accession: "S1", from: "2026-02-28", to: "2026-02-28", page: 2 };
    // Beijing: getTimezoneOffset() is -480.
    expect(inboundQuery(search, -480)).toEqual({
      limit: 25,
      offset: 25,
      accession: "S1",
      received_after: "2026-02-28T00:00:00+08:00",
      received_before: "2026-03-01T00:00:00+08:00",
    });
    expect(inboundQuery({ ...EMPTY_SEARCH, to: "2026-12-31" }, 300).received_before).toBe(
      "2027-01-01T00:00:00-05:00",
    );
  });

  it("passes the deliveries API its dates and the control id and status as named there", () => {
    const search = {
      ...EMPTY_SEARCH,
      tab: "outbound" as const,
      controlId: "X",
      status: "failed",
      destination: "his",
      from: "2026-01-01",
      to: "2026-01-02",
    };
    expect(outboundQuery(search)).toEqual({
      limit: 25,
      offset: 0,
      control_id: "X",
      status: "failed",
      destination: "his",
      since: "2026-01-01",
      until: "2026-01-02",
    });
  });

  it("counts pages and the next day across month ends and leap days", () => {
    expect(pageCount(0)).toBe(1);
    expect(pageCount(25)).toBe(1);
    expect(pageCount(26)).toBe(2);
    expect(nextDay("2028-02-28")).toBe("2028-02-29");
    expect(nextDay("2026-02-28")).toBe("2026-03-01");
  });
});

describe("raw HL7", () => {
  it("puts each segment on its own line whatever the separator, without MLLP framing", () => {
    const raw = "\u000bMSH|^~\\&|LIS\rPID|||M1\r\nORC|NW\nOBR|1\r\u001c\r";
    expect(hl7Segments(raw)).toEqual(["MSH|^~\\&|LIS", "PID|||M1", "ORC|NW", "OBR|1"]);
  });

  it("keeps a one-segment message and an empty one", () => {
    expect(hl7Segments("MSH|^~\\&")).toEqual(["MSH|^~\\&"]);
    expect(hl7Segments("")).toEqual([]);
  });
});

describe("parsed structure", () => {
  it("turns segments and their fields into rows", () => {
    expect(
      parsedSegments([
        { segment: "MSH", fields: { "MSH-9": "ORM^O01" } },
        { segment: "PID", fields: { "PID-3": "M1", "PID-5": ["A", "B"] } },
      ]),
    ).toEqual([
      { segment: "MSH", fields: [["MSH-9", "ORM^O01"]] },
      { segment: "PID", fields: [["PID-3", "M1"], ["PID-5", '["A","B"]']] },
    ]);
  });

  it("gives null for a withheld or non-HL7 structure", () => {
    expect(parsedSegments(null)).toBeNull();
    expect(parsedSegments({ resourceType: "Bundle" })).toBeNull();
    expect(parsedSegments([{ nope: 1 }])).toBeNull();
  });
});

describe("small formats", () => {
  it("writes ages the way an operator reads them", () => {
    expect(formatAge(null)).toBe("—");
    expect(formatAge(42.7)).toBe("42 s");
    expect(formatAge(600)).toBe("10 min");
    expect(formatAge(3 * 3600 + 5 * 60)).toBe("3 h 5 min");
    expect(formatAge(2 * 86400 + 4 * 3600)).toBe("2 d 4 h");
  });

  it("accepts only positive whole ids", () => {
    expect(parseId("12")).toBe(12);
    expect(parseId("0")).toBeNull();
    expect(parseId("1e3")).toBeNull();
    expect(parseId(undefined)).toBeNull();
  });
});
