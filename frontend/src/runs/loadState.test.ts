import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/client";
import { effectLoop, failedLoad, messageOf } from "./loadState";
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

describe("effectLoop", () => {
  it("runs work later until stopped; stopping aborts its requests and drops the timer", () => {
    vi.useFakeTimers();
    try {
      const loop = effectLoop();
      const work = vi.fn();
      loop.later(work, 1000);
      vi.advanceTimersByTime(1000);
      expect(work).toHaveBeenCalledTimes(1);
      loop.later(work, 1000);
      expect(loop.stopped).toBe(false);
      loop.stop();
      vi.advanceTimersByTime(5000);
      expect(work).toHaveBeenCalledTimes(1);
      expect(loop.stopped).toBe(true);
      expect(loop.signal.aborted).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});
