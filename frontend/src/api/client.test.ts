import { afterEach, describe, expect, it, vi } from "vitest";
import { runList, SUCCEEDED_RUN } from "../test/fixtures";
import { ApiError, createApiClient, dataOf } from "./client";

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

function recorder(answer: () => Response) {
  const requests: Request[] = [];
  const fetch = vi.fn((request: Request) => {
    requests.push(request);
    return Promise.resolve(answer());
  });
  return { fetch, requests };
}

afterEach(() => {
  document.cookie = "csrftoken=; expires=Thu, 01 Jan 1970 00:00:00 GMT";
});

describe("createApiClient", () => {
  it("GETs the run list with the session cookie and parses it", async () => {
    const { fetch, requests } = recorder(() => jsonResponse(200, runList(SUCCEEDED_RUN)));
    const client = createApiClient({ fetch, onUnauthorized: vi.fn(), baseUrl: "http://h" });

    const data = dataOf(await client.GET("/api/v1/runs/", { params: { query: { limit: 50 } } }));

    expect(data.results[0]?.case.accession).toBe("S26-00001");
    expect(requests[0]?.url).toBe("http://h/api/v1/runs/?limit=50");
    expect(requests[0]?.credentials).toBe("same-origin");
    expect(requests[0]?.method).toBe("GET");
    expect(requests[0]?.headers.get("X-CSRFToken")).toBeNull();
  });

  it("GETs /api/v1/me on the page's own origin by default", async () => {
    const { fetch, requests } = recorder(() =>
      jsonResponse(200, { username: "u", display_name: "U", department: null, role: "admin" }),
    );
    const client = createApiClient({ fetch, onUnauthorized: vi.fn() });
    expect(dataOf(await client.GET("/api/v1/me"))).toMatchObject({ username: "u" });
    expect(requests[0]?.url).toBe(`${window.location.origin}/api/v1/me`);
  });

  it("throws the server's message on errors", async () => {
    const onUnauthorized = vi.fn();
    const { fetch } = recorder(() => jsonResponse(500, { error: "database is locked" }));
    const client = createApiClient({ fetch, onUnauthorized, baseUrl: "http://h" });
    const err: unknown = await client.GET("/api/v1/runs/").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).message).toBe("database is locked");
    expect((err as ApiError).status).toBe(500);
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it("lists every problem of a 400", async () => {
    const { fetch } = recorder(() =>
      jsonResponse(400, { detail: "2 problems", problems: ["nodes[0]: no type", "edges[1]: cycle"] }),
    );
    const client = createApiClient({ fetch, onUnauthorized: vi.fn(), baseUrl: "http://h" });
    const err = (await client
      .POST("/api/v1/runs/{id}/rerun/", { params: { path: { id: "1" } }, body: { from_node: "x" } })
      .catch((e: unknown) => e)) as ApiError;
    expect(err.message).toBe("2 problems");
    expect(err.problems).toEqual(["nodes[0]: no type", "edges[1]: cycle"]);
  });

  it.each([401, 403])("sends the browser to the login page when a read gets %i", async (status) => {
    const onUnauthorized = vi.fn();
    const { fetch } = recorder(() =>
      jsonResponse(status, { detail: "Authentication credentials were not provided." }),
    );
    const client = createApiClient({ fetch, onUnauthorized, baseUrl: "http://h" });
    const err: unknown = await client.GET("/api/v1/runs/").catch((e: unknown) => e);
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
    expect((err as ApiError).isAuthFailure).toBe(true);
  });

  it("redirects to the login page and back to the page by default", async () => {
    const assign = vi.fn();
    vi.spyOn(window, "location", "get").mockReturnValue({
      assign,
      origin: "http://h",
      pathname: "/app/studio/workflows",
      search: "",
    } as unknown as Location);
    const client = createApiClient({ fetch: () => Promise.resolve(jsonResponse(401, {})) });
    await client.GET("/api/v1/me").catch(() => undefined);
    expect(assign).toHaveBeenCalledWith("/accounts/login/?next=/app/studio/workflows");
  });

  it("POSTs run actions with the CSRF token and shows a refusal instead of signing out", async () => {
    document.cookie = "csrftoken=tok-9";
    const onUnauthorized = vi.fn();
    const { fetch, requests } = recorder(() =>
      jsonResponse(403, { detail: "only department admins and pathologists may cancel a run" }),
    );
    const client = createApiClient({ fetch, onUnauthorized, baseUrl: "http://h" });

    const err: unknown = await client
      .POST("/api/v1/runs/{id}/cancel/", { params: { path: { id: "12" } } })
      .catch((e: unknown) => e);

    expect((err as ApiError).message).toBe("only department admins and pathologists may cancel a run");
    expect((err as ApiError).isAuthFailure).toBe(false);
    expect(onUnauthorized).not.toHaveBeenCalled();
    expect(requests[0]?.url).toBe("http://h/api/v1/runs/12/cancel/");
    expect(requests[0]?.method).toBe("POST");
    expect(requests[0]?.headers.get("X-CSRFToken")).toBe("tok-9");
  });

  it("asks for a re-run and for progress after a cursor", async () => {
    const { fetch, requests } = recorder(() => jsonResponse(200, {}));
    const client = createApiClient({ fetch, onUnauthorized: vi.fn(), baseUrl: "http://h" });

    await client.POST("/api/v1/runs/{id}/rerun/", {
      params: { path: { id: "12" } },
      body: { from_node: "fna" },
    });
    await client.GET("/api/v1/runs/{id}/progress/", {
      params: { path: { id: "12" }, query: { since: "2026-11-27T06:05:04+00:00" } },
    });

    expect(requests[0]?.url).toBe("http://h/api/v1/runs/12/rerun/");
    expect(await requests[0]?.text()).toBe('{"from_node":"fna"}');
    expect(new URL(requests[1]!.url).searchParams.get("since")).toBe("2026-11-27T06:05:04+00:00");
  });
});
