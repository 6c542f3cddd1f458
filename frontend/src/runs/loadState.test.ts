import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { failedLoad, loadStateOf, messageOf } from "./loadState";
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

describe("loadStateOf", () => {
  const items = (data: number[]) => ({ items: data });

  it("is loading, then ready with the time the data arrived", () => {
    expect(loadStateOf({ data: undefined, error: null, dataUpdatedAt: 0, isFetching: true }, items))
      .toEqual({ kind: "loading" });
    expect(loadStateOf({ data: [1], error: null, dataUpdatedAt: 5, isFetching: false }, items))
      .toEqual(ready);
  });

  it("keeps the data shown when a refresh fails, and shows loading while retrying an error", () => {
    expect(
      loadStateOf({ data: [1], error: new Error("boom"), dataUpdatedAt: 5, isFetching: false }, items),
    ).toEqual({ ...ready, refreshError: "boom" });
    expect(
      loadStateOf({ data: undefined, error: new Error("boom"), dataUpdatedAt: 0, isFetching: false }, items),
    ).toEqual({ kind: "error", message: "boom" });
    expect(
      loadStateOf({ data: undefined, error: new Error("boom"), dataUpdatedAt: 0, isFetching: true }, items),
    ).toEqual({ kind: "loading" });
  });

  it("is redirecting when the session is gone", () => {
    expect(
      loadStateOf(
        { data: [1], error: new ApiError(403, "no"), dataUpdatedAt: 5, isFetching: false },
        items,
      ),
    ).toEqual({ kind: "redirecting" });
  });
});
