// Thin typed client for the Pathflow API. Same origin, Django session cookie.
import { errorMessageFromResponse, isAuthFailure, loginUrl } from "../lib/http";
import type { Me, RunList } from "./types";

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

  async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
    const response = await doFetch(path, {
      method: "GET",
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      signal,
    });
    if (!response.ok) {
      const body = await response.text().catch(() => "");
      const message = errorMessageFromResponse(
        response.status,
        response.statusText,
        response.headers.get("Content-Type"),
        body,
      );
      if (isAuthFailure(response.status)) onUnauthorized();
      throw new ApiError(response.status, message);
    }
    return (await response.json()) as T;
  }

  return {
    getMe: (signal) => getJson<Me>("/api/v1/me", signal),
    listRuns: (limit = 50, signal) =>
      getJson<RunList>(`/api/v1/runs/?limit=${encodeURIComponent(String(limit))}`, signal),
  };
}

/** The client the app uses in the browser. */
export const api: ApiClient = createApiClient();
