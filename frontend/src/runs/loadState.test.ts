import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { failedLoad, messageOf } from "./loadState";
import type { LoadState } from "./loadState";

type State = LoadState<{ items: number[] }>;

const ready: State = { kind: "ready", items: [1], fetchedAt: 5, refreshError: null };

describe("failedLoad", () => {
  it("keeps what is shown and notes the error", () => {
    expect(failedLoad(ready, new Error("boom"))).toEqual({ ...ready, refreshError: "boom" });
  });

  it("is the error alone when nothing was shown yet", () => {
    expect(failedLoad<{ items: number[] }>({ kind: "loading" }, "down")).toEqual({
      kind: "error",
      message: "down",
    });
  });

  it("is redirecting when the session is gone, whatever was shown", () => {
    expect(failedLoad(ready, new ApiError(401, "signed out"))).toEqual({ kind: "redirecting" });
  });
});

describe("messageOf", () => {
  it("is an error's message, else the value as text", () => {
    expect(messageOf(new Error("boom"))).toBe("boom");
    expect(messageOf(new Error(""))).toBe("Error");
    expect(messageOf(42)).toBe("42");
  });
});
