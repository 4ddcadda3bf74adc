/**
 * `POST /hooks/github`: a push to the tracked branch triggers an immediate fetch. The body is
 * authenticated with `X-Hub-Signature-256` (HMAC-SHA256 of the raw body with the shared secret),
 * compared in constant time; anything unsigned or mis-signed is refused before it is parsed.
 *
 * Replays: the ids (`X-GitHub-Delivery`) of the last `rememberDeliveries` signed deliveries are
 * kept, and a delivery seen before is answered 200 `{ok: true, duplicate: true}` without another
 * fetch. A signed body captured on the way can so not be replayed to make the daemon fetch again and
 * again, and GitHub's "Redeliver" (same id) shows as delivered. A delivery without the header is
 * still served (GitHub always sends it; a proxy that strips it loses only the replay check).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { HttpError, readRequestBody } from "./request-body.js";

export interface GithubWebhookOptions {
  secret: string;
  branch: string;
  /** Asks for a reconcile; the response does not wait for it. */
  onPush(revision: string | undefined): void;
  /** Largest body accepted (GitHub caps payloads at 25 MB; pushes are far smaller). */
  maxBodyBytes?: number;
  /** How many delivery ids are remembered against replays (default 1000; the oldest is forgotten first). */
  rememberDeliveries?: number;
}

export const DEFAULT_REMEMBERED_DELIVERIES = 1000;

export function verifyGithubSignature(secret: string, body: Buffer, header: string | undefined): boolean {
  if (!header || !header.startsWith("sha256=")) return false;
  const expected = Buffer.from(`sha256=${createHmac("sha256", secret).update(body).digest("hex")}`);
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function createGithubWebhookHandler(options: GithubWebhookOptions) {
  const maxBody = options.maxBodyBytes ?? 5 * 1024 * 1024;
  const remember = options.rememberDeliveries ?? DEFAULT_REMEMBERED_DELIVERIES;
  /** Delivery ids in the order they came (a Set iterates in insertion order): the first is the oldest. */
  const seen = new Set<string>();
  return async function githubWebhook(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply = (status: number, body: Record<string, unknown>, headers: Readonly<Record<string, string>> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
    };
    let body: Buffer;
    try {
      body = await readRequestBody(req, maxBody);
    } catch (error) {
      if (error instanceof HttpError) return reply(error.status, { error: "payload too large", hint: `Webhook bodies above ${maxBody} bytes are refused; subscribe the webhook to push events only.` }, error.headers);
      throw error;
    }
    if (!verifyGithubSignature(options.secret, body, header(req, "x-hub-signature-256"))) {
      return reply(401, { error: "missing or invalid X-Hub-Signature-256", hint: "Set the webhook's secret to the daemon's --webhook-secret." });
    }
    const delivery = header(req, "x-github-delivery");
    if (delivery !== undefined) {
      if (seen.has(delivery)) return reply(200, { ok: true, duplicate: true, delivery });
      seen.add(delivery);
      if (seen.size > remember) seen.delete(seen.values().next().value as string);
    }
    const event = header(req, "x-github-event");
    if (event === "ping") return reply(200, { ok: true, pong: true });
    if (event !== "push") return reply(202, { ok: true, ignored: `event ${String(event)}` });
    let payload: { ref?: string; after?: string };
    try {
      payload = JSON.parse(body.toString("utf8")) as typeof payload;
    } catch {
      return reply(400, { error: "body is not JSON" });
    }
    if (payload.ref !== `refs/heads/${options.branch}`) return reply(202, { ok: true, ignored: `push to ${payload.ref ?? "?"}` });
    options.onPush(payload.after);
    return reply(202, { ok: true, fetching: payload.after ?? null });
  };
}
