// Thin typed client for the Pathflow API. Same origin, Django session cookie.
import { errorMessageFromResponse, isAuthFailure, loginUrl, readCookie } from "../lib/http";
import type { Me, RunDetail, RunList, RunProgress } from "./types";

export class ApiError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }

  /** True when the browser is being sent to the login page. */
  get isAuthFailure(): boolean {
    return isAuthFailure(this.status);
  }
}

export interface ApiClient {
  getMe(signal?: AbortSignal): Promise<Me>;
  listRuns(limit?: number, signal?: AbortSignal): Promise<RunList>;
  getRun(id: number, signal?: AbortSignal): Promise<RunDetail>;
  getRunProgress(id: number, since: string | null, signal?: AbortSignal): Promise<RunProgress>;
  cancelRun(id: number): Promise<RunDetail>;
  rerunRun(id: number, fromNode: string): Promise<RunDetail>;
}

export interface ApiClientOptions {
  fetch?: typeof fetch;
  /** Called on 401/403; by default sends the browser to the login page. */
  onUnauthorized?: () => void;
}

function redirectToLogin(): void {
  window.location.assign(loginUrl());
}

export function createApiClient(options: ApiClientOptions = {}): ApiClient {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const onUnauthorized = options.onUnauthorized ?? redirectToLogin;

  async function fail(response: Response, redirectOn: (status: number) => boolean): Promise<never> {
    const body = await response.text().catch(() => "");
    const message = errorMessageFromResponse(
      response.status,
      response.statusText,
      response.headers.get("Content-Type"),
      body,
    );
    if (redirectOn(response.status)) onUnauthorized();
    throw new ApiError(response.status, message);
  }

  async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
    const response = await doFetch(path, {
      method: "GET",
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      signal,
    });
    if (!response.ok) return fail(response, isAuthFailure);
    return (await response.json()) as T;
  }

  /** POST JSON with Django's CSRF token. A 403 here is a refused action (its message is
   * shown); only 401 means the session is gone. */
  async function postJson<T>(path: string, body: unknown): Promise<T> {
    const csrf = typeof document === "undefined" ? null : readCookie(document.cookie, "csrftoken");
    const response = await doFetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        "Content-Type": "application/json",
        ...(csrf ? { "X-CSRFToken": csrf } : {}),
      },
      body: JSON.stringify(body),
    });
    if (!response.ok) return fail(response, (status) => status === 401);
    return (await response.json()) as T;
  }

  return {
    getMe: (signal) => getJson<Me>("/api/v1/me", signal),
    listRuns: (limit = 50, signal) =>
      getJson<RunList>(`/api/v1/runs/?limit=${encodeURIComponent(String(limit))}`, signal),
    getRun: (id, signal) => getJson<RunDetail>(`/api/v1/runs/${id}/`, signal),
    getRunProgress: (id, since, signal) =>
      getJson<RunProgress>(
        `/api/v1/runs/${id}/progress${since ? `?since=${encodeURIComponent(since)}` : ""}`,
        signal,
      ),
    cancelRun: (id) => postJson<RunDetail>(`/api/v1/runs/${id}/cancel`, {}),
    rerunRun: (id, fromNode) =>
      postJson<RunDetail>(`/api/v1/runs/${id}/rerun`, { from_node: fromNode }),
  };
}

/** The client the app uses in the browser. */
export const api: ApiClient = createApiClient();
