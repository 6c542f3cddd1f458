// A fake server for component tests: the real API client (openapi-fetch + middleware) over a
// fetch that answers by method and path from queues, and records every request.
import { vi } from "vitest";
import { createApiClient } from "../api/client";
import type { Api } from "../api/client";

export interface Answer {
  status?: number;
  body?: unknown;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Headers;
  body: unknown;
}

/** A JSON answer, or an error status with the server's message. */
export function ok(body: unknown): Answer {
  return { status: 200, body };
}

export function fail(status: number, detail: string, extra: Record<string, unknown> = {}): Answer {
  return { status, body: { detail, ...extra } };
}

export interface FakeApi {
  client: Api;
  onUnauthorized: ReturnType<typeof vi.fn>;
  /** Queue answers for "GET /api/v1/runs/"; the last one repeats. */
  on(route: string, ...answers: (Answer | ((req: RecordedRequest) => Answer))[]): FakeApi;
  /** Requests made to "METHOD /path" (all requests without a route). */
  calls(route?: string): RecordedRequest[];
}

export function fakeApi(): FakeApi {
  const queues = new Map<string, (Answer | ((req: RecordedRequest) => Answer))[]>();
  const seen: (RecordedRequest & { route: string })[] = [];
  const onUnauthorized = vi.fn();

  const fetch = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const text = request.method === "GET" ? "" : await request.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // multipart and other bodies stay text
    }
    const route = `${request.method} ${url.pathname}`;
    const recorded = { method: request.method, path: url.pathname, query: url.searchParams, headers: request.headers, body, route };
    seen.push(recorded);
    const queue = queues.get(route);
    if (!queue || queue.length === 0) {
      return new Response(JSON.stringify({ detail: `no fake answer for ${route}` }), {
        status: 599,
        headers: { "Content-Type": "application/json" },
      });
    }
    const next = queue.length > 1 ? queue.shift()! : queue[0]!;
    const answer = typeof next === "function" ? next(recorded) : next;
    return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), {
      status: answer.status ?? 200,
      headers: { "Content-Type": "application/json" },
    });
  };

  const api: FakeApi = {
    client: createApiClient({ fetch, onUnauthorized, baseUrl: "http://localhost" }),
    onUnauthorized,
    on(route, ...answers) {
      queues.set(route, [...answers]);
      return api;
    },
    calls(route) {
      return route ? seen.filter((r) => r.route === route) : seen;
    },
  };
  return api;
}
