import { describe, expect, it, vi } from "vitest";
import { runList, SUCCEEDED_RUN } from "../test/fixtures";
import { ApiError, createApiClient } from "./client";

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

describe("createApiClient", () => {
  it("GETs the run list with the session cookie and parses it", async () => {
    const fetchMock = vi.fn<typeof fetch>(() => Promise.resolve(jsonResponse(200, runList(SUCCEEDED_RUN))));
    const client = createApiClient({ fetch: fetchMock, onUnauthorized: vi.fn() });

    const data = await client.listRuns(50);

    expect(data.results[0]?.case.accession).toBe("S26-00001");
    const [url, init] = fetchMock.mock.calls[0] ?? [];
    expect(url).toBe("/api/v1/runs/?limit=50");
    expect(init?.credentials).toBe("same-origin");
    expect(init?.method).toBe("GET");
  });

  it("GETs /api/v1/me", async () => {
    const fetchMock = vi.fn<typeof fetch>(() =>
      Promise.resolve(jsonResponse(200, { username: "u", display_name: "U" })),
    );
    const client = createApiClient({ fetch: fetchMock, onUnauthorized: vi.fn() });
    await expect(client.getMe()).resolves.toMatchObject({ username: "u" });
    expect(fetchMock.mock.calls[0]?.[0]).toBe("/api/v1/me");
  });

  it("throws the server's message on errors", async () => {
    const onUnauthorized = vi.fn();
    const client = createApiClient({
      fetch: () => Promise.resolve(jsonResponse(500, { error: "database is locked" })),
      onUnauthorized,
    });
    const err: unknown = await client.listRuns().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).message).toBe("database is locked");
    expect((err as ApiError).status).toBe(500);
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it.each([401, 403])("sends the browser to the login page on %i", async (status) => {
    const onUnauthorized = vi.fn();
    const client = createApiClient({
      fetch: () =>
        Promise.resolve(jsonResponse(status, { detail: "Authentication credentials were not provided." })),
      onUnauthorized,
    });
    const err: unknown = await client.listRuns().catch((e: unknown) => e);
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
    expect((err as ApiError).isAuthFailure).toBe(true);
  });

  it("redirects to /accounts/login/?next=/app/ by default", async () => {
    const assign = vi.fn();
    vi.spyOn(window, "location", "get").mockReturnValue({ assign } as unknown as Location);
    const client = createApiClient({ fetch: () => Promise.resolve(jsonResponse(401, {})) });
    await client.getMe().catch(() => undefined);
    expect(assign).toHaveBeenCalledWith("/accounts/login/?next=/app/");
  });

  it("POSTs run actions with the CSRF token and shows a refusal instead of signing out", async () => {
    document.cookie = "csrftoken=tok-9";
    const onUnauthorized = vi.fn();
    const fetchMock = vi.fn<typeof fetch>(() =>
      Promise.resolve(jsonResponse(403, { detail: "only department admins and pathologists may cancel a run" })),
    );
    const client = createApiClient({ fetch: fetchMock, onUnauthorized });

    const err: unknown = await client.cancelRun(12).catch((e: unknown) => e);

    expect((err as ApiError).message).toBe("only department admins and pathologists may cancel a run");
    expect(onUnauthorized).not.toHaveBeenCalled();
    const [url, init] = fetchMock.mock.calls[0] ?? [];
    expect(url).toBe("/api/v1/runs/12/cancel");
    expect(init?.method).toBe("POST");
    expect((init?.headers as Record<string, string>)["X-CSRFToken"]).toBe("tok-9");
  });

  it("asks for a re-run and for progress after a cursor", async () => {
    const fetchMock = vi.fn<typeof fetch>(() => Promise.resolve(jsonResponse(200, {})));
    const client = createApiClient({ fetch: fetchMock, onUnauthorized: vi.fn() });

    await client.rerunRun(12, "fna");
    await client.getRunProgress(12, "2026-11-27T06:05:04+00:00");
    await client.getRunProgress(12, null);

    expect(fetchMock.mock.calls[0]?.[0]).toBe("/api/v1/runs/12/rerun");
    expect(fetchMock.mock.calls[0]?.[1]?.body).toBe('{"from_node":"fna"}');
    expect(fetchMock.mock.calls[1]?.[0]).toBe(
      "/api/v1/runs/12/progress?since=2026-11-27T06%3A05%3A04%2B00%3A00",
    );
    expect(fetchMock.mock.calls[2]?.[0]).toBe("/api/v1/runs/12/progress");
  });
});
