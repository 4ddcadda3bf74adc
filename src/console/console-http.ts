/**
 * The console's HTTP vocabulary: JSON answers with a code, a message and a hint; its session
 * cookie; the security headers every console answer carries.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";

/** An answer the console API gives instead of what was asked: its status, a stable code, what to do. */
export class ConsoleError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export const SESSION_COOKIE = "mcpr_console";
export const CSRF_HEADER = "x-csrf-token";

/**
 * Pages and API answers: no framing, no sniffing, no referrer; scripts, styles and connections only
 * from the daemon itself; images also as `data:` (a tool's image result).
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { ...SECURITY_HEADERS, "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers });
  res.end(JSON.stringify(body));
}

export function sendError(res: ServerResponse, error: ConsoleError): void {
  sendJson(res, error.status, { error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) } });
}

export function cookieValue(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Whether the browser reached the daemon over https: its own TLS socket, or, when the operator says
 * a proxy in front terminates TLS (`trustProxy`), that proxy's `X-Forwarded-Proto: https`.
 */
export function overHttps(req: IncomingMessage, trustProxy: boolean): boolean {
  if ((req.socket as TLSSocket).encrypted) return true;
  if (!trustProxy) return false;
  const proto = req.headers["x-forwarded-proto"];
  const first = (Array.isArray(proto) ? proto[0] : proto)?.split(",")[0]?.trim().toLowerCase();
  return first === "https";
}

/** The session cookie: HttpOnly, SameSite=Strict, the whole site, Secure over https; `maxAge` 0 clears it. */
export function sessionCookie(value: string, secure: boolean, maxAgeSeconds?: number): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Strict",
    ...(secure ? ["Secure"] : []),
    ...(maxAgeSeconds !== undefined ? [`Max-Age=${maxAgeSeconds}`] : []),
  ].join("; ");
}
