import { describe, expect, it } from "vitest";
import { errorMessageFromResponse, isAuthFailure, loginUrl, readCookie } from "./http";

describe("loginUrl / isAuthFailure", () => {
  it("points at Django's login page and comes back to the app", () => {
    expect(loginUrl()).toBe("/accounts/login/?next=/app/");
    expect(loginUrl("/app/runs?x=1&y=2")).toBe("/accounts/login/?next=/app/runs%3Fx%3D1%26y%3D2");
  });

  it("treats 401 and 403 as auth failures only", () => {
    expect(isAuthFailure(401)).toBe(true);
    expect(isAuthFailure(403)).toBe(true);
    expect(isAuthFailure(400)).toBe(false);
    expect(isAuthFailure(500)).toBe(false);
  });
});

describe("errorMessageFromResponse", () => {
  it("uses the server's JSON message", () => {
    expect(
      errorMessageFromResponse(500, "Internal Server Error", "application/json", '{"error":"db down"}'),
    ).toBe("db down");
    expect(
      errorMessageFromResponse(400, "Bad Request", "application/json", '{"detail":"bad limit"}'),
    ).toBe("bad limit");
    expect(
      errorMessageFromResponse(400, "", "application/json", '{"detail":["a","b"]}'),
    ).toBe("a; b");
  });

  it("uses short plain text bodies", () => {
    expect(errorMessageFromResponse(502, "Bad Gateway", "text/plain", "upstream gone\n")).toBe(
      "upstream gone",
    );
  });

  it("falls back to the status line for HTML, empty or unhelpful bodies", () => {
    expect(
      errorMessageFromResponse(500, "Internal Server Error", "text/html", "<!doctype html><h1>x</h1>"),
    ).toBe("HTTP 500 Internal Server Error");
    expect(errorMessageFromResponse(503, "", null, "")).toBe("HTTP 503");
    expect(errorMessageFromResponse(500, "Oops", "application/json", '{"ok":false}')).toBe(
      "HTTP 500 Oops",
    );
    expect(errorMessageFromResponse(500, "Oops", "application/json", "{broken")).toBe(
      "HTTP 500 Oops",
    );
  });

  it("truncates long text", () => {
    const msg = errorMessageFromResponse(500, "", "text/plain", "x".repeat(1000));
    expect(msg.length).toBe(301);
    expect(msg.endsWith("…")).toBe(true);
  });
});

describe("readCookie", () => {
  it("finds a cookie among others", () => {
    expect(readCookie("sessionid=abc; csrftoken=Tok123; theme=dark", "csrftoken")).toBe("Tok123");
    expect(readCookie("csrftoken=a%20b", "csrftoken")).toBe("a b");
  });

  it("does not match on a name suffix and returns null when absent", () => {
    expect(readCookie("xcsrftoken=nope", "csrftoken")).toBeNull();
    expect(readCookie("", "csrftoken")).toBeNull();
  });
});
