// Pure helpers for talking to the Django API.

export const APP_PATH = "/app/";

/** Where to send the browser when the session is missing or not allowed. */
export function loginUrl(next: string = APP_PATH): string {
  // Slashes are legal in a query string; keep them readable (?next=/app/).
  return `/accounts/login/?next=${encodeURIComponent(next).replace(/%2F/gi, "/")}`;
}

/** 401 (not signed in) and 403 (signed out / no permission / CSRF) both go to the login page. */
export function isAuthFailure(status: number): boolean {
  return status === 401 || status === 403;
}

function messageFromJson(value: unknown): string | null {
  if (typeof value === "string") return value.trim() || null;
  if (Array.isArray(value)) {
    const parts = value.map(messageFromJson).filter((m): m is string => m !== null);
    return parts.length > 0 ? parts.join("; ") : null;
  }
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    for (const key of ["error", "detail", "message"]) {
      const found = messageFromJson(obj[key]);
      if (found) return found;
    }
  }
  return null;
}

const MAX_TEXT_MESSAGE = 300;

/**
 * Turn an error response into a message for people. Prefers the server's own
 * JSON message (`error`, `detail` or `message`), then a short plain-text body,
 * then the HTTP status line. HTML error pages are never shown verbatim.
 */
export function errorMessageFromResponse(
  status: number,
  statusText: string,
  contentType: string | null,
  body: string,
): string {
  const fallback = `HTTP ${status}${statusText ? ` ${statusText}` : ""}`;
  const text = body.trim();
  if (!text) return fallback;
  const type = (contentType ?? "").toLowerCase();
  const declaredJson = type.includes("json");
  if (declaredJson || text.startsWith("{") || text.startsWith("[")) {
    try {
      return messageFromJson(JSON.parse(text)) ?? fallback;
    } catch {
      // Broken JSON is not worth showing; other text that merely looks like it is.
      if (declaredJson) return fallback;
    }
  }
  if (type.includes("html") || text.startsWith("<")) return fallback;
  return text.length > MAX_TEXT_MESSAGE ? `${text.slice(0, MAX_TEXT_MESSAGE)}…` : text;
}

/** Read one cookie from a `document.cookie` style string. */
export function readCookie(cookieString: string, name: string): string | null {
  for (const part of cookieString.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) {
      const raw = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(raw);
      } catch {
        return raw;
      }
    }
  }
  return null;
}

/** The problems a 400 lists (`{"problems": [...]}`, a list, or DRF's field errors), as text. */
export function problemsFromBody(body: unknown): string[] {
  if (Array.isArray(body)) return body.map((p) => (typeof p === "string" ? p : JSON.stringify(p)));
  if (body === null || typeof body !== "object") return [];
  const obj = body as Record<string, unknown>;
  if (Array.isArray(obj.problems)) {
    return obj.problems.map((p) => (typeof p === "string" ? p : JSON.stringify(p)));
  }
  const fields: string[] = [];
  for (const [key, value] of Object.entries(obj)) {
    if (key === "detail" || key === "error" || key === "message") continue;
    if (Array.isArray(value) && value.every((v) => typeof v === "string")) {
      fields.push(`${key}: ${value.join(" ")}`);
    }
  }
  return fields;
}
