// The thin typed client: openapi-fetch over the generated schema (schema.d.ts, `npm run gen:api`).
// Same origin, Django session cookie; unsafe methods carry the CSRF token from the `csrftoken`
// cookie; a failed answer becomes an ApiError with the server's message and problems.
import createClient from "openapi-fetch";
import type { Client, Middleware } from "openapi-fetch";
import { createContext, useContext } from "react";
import { errorMessageFromResponse, loginUrl, problemsFromBody, readCookie } from "../lib/http";
import type { paths } from "./schema";

export type Api = Client<paths>;

export interface ApiErrorDetails {
  /** Every problem the server listed (a 400 lists them all). */
  problems?: readonly string[];
  /** The parsed JSON body, when there was one (e.g. a 409 names who changed what). */
  body?: unknown;
  /** Whether the browser is being sent to sign in (default: on 401 and 403). */
  authFailure?: boolean;
}

export class ApiError extends Error {
  readonly status: number;
  readonly problems: readonly string[];
  readonly body: unknown;
  /** True when the browser is being sent to the login page. */
  readonly isAuthFailure: boolean;

  constructor(status: number, message: string, details: ApiErrorDetails = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.problems = details.problems ?? [];
    this.body = details.body;
    this.isAuthFailure = details.authFailure ?? (status === 401 || status === 403);
  }
}

export interface ApiClientOptions {
  fetch?: (request: Request) => Promise<Response>;
  /** Called when the session is gone; by default sends the browser to the login page. */
  onUnauthorized?: () => void;
  baseUrl?: string;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

function redirectToLogin(): void {
  const { pathname, search } = window.location;
  window.location.assign(loginUrl(pathname.startsWith("/app/") ? pathname + search : undefined));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** CSRF header on unsafe methods; failed answers thrown as ApiError. A 401 — or a 403 to a read,
 * which is how DRF's session authentication answers a signed-out browser — sends the browser to
 * sign in; a 403 to an action is a refusal whose message is shown. */
function middleware(onUnauthorized: () => void): Middleware {
  return {
    onRequest({ request }) {
      if (SAFE_METHODS.has(request.method)) return undefined;
      const csrf = typeof document === "undefined" ? null : readCookie(document.cookie, "csrftoken");
      if (csrf) request.headers.set("X-CSRFToken", csrf);
      return request;
    },
    async onResponse({ request, response }) {
      if (response.ok) return undefined;
      const text = await response.clone().text().catch(() => "");
      const message = errorMessageFromResponse(
        response.status,
        response.statusText,
        response.headers.get("Content-Type"),
        text,
      );
      const body = parseJson(text);
      const safe = SAFE_METHODS.has(request.method);
      // A refused action (403 to an unsafe method) is not a session problem: stay here.
      const authFailure = response.status === 401 || (response.status === 403 && safe);
      if (authFailure) onUnauthorized();
      const error = new ApiError(response.status, message, {
        problems: problemsFromBody(body),
        body,
        authFailure,
      });
      throw error;
    },
  };
}

export function createApiClient(options: ApiClientOptions = {}): Api {
  const client = createClient<paths>({
    baseUrl: options.baseUrl ?? (typeof window === "undefined" ? "" : window.location.origin),
    credentials: "same-origin",
    headers: { Accept: "application/json" },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  client.use(middleware(options.onUnauthorized ?? redirectToLogin));
  return client;
}

/** The data of an answer (failed answers were already thrown by the middleware). */
export function dataOf<T>(result: { data?: T; response: Response }): T {
  if (result.data === undefined) {
    throw new ApiError(result.response.status, `HTTP ${result.response.status}: empty answer`);
  }
  return result.data;
}

/** The client the app uses in the browser. */
export const api: Api = createApiClient();

const ApiContext = createContext<Api>(api);
export const ApiProvider = ApiContext.Provider;

/** The API client of the nearest ApiProvider (tests give one over a fake fetch). */
export function useApi(): Api {
  return useContext(ApiContext);
}
