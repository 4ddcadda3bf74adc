/**
 * `POST /hooks/github`: a push to the tracked branch triggers an immediate fetch. The body is
 * authenticated with `X-Hub-Signature-256` (HMAC-SHA256 of the raw body with the shared secret),
 * compared in constant time; anything unsigned or mis-signed is refused before it is parsed.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

export interface GithubWebhookOptions {
  secret: string;
  branch: string;
  /** Asks for a reconcile; the response does not wait for it. */
  onPush(revision: string | undefined): void;
  /** Largest body accepted (GitHub caps payloads at 25 MB; pushes are far smaller). */
  maxBodyBytes?: number;
}

export function verifyGithubSignature(secret: string, body: Buffer, header: string | undefined): boolean {
  if (!header || !header.startsWith("sha256=")) return false;
  const expected = Buffer.from(`sha256=${createHmac("sha256", secret).update(body).digest("hex")}`);
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function createGithubWebhookHandler(options: GithubWebhookOptions) {
  const maxBody = options.maxBodyBytes ?? 5 * 1024 * 1024;
  return async function githubWebhook(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply = (status: number, body: Record<string, unknown>) => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > maxBody) return reply(413, { error: "payload too large" });
      chunks.push(chunk as Buffer);
    }
    const body = Buffer.concat(chunks);
    const signature = req.headers["x-hub-signature-256"];
    if (!verifyGithubSignature(options.secret, body, Array.isArray(signature) ? signature[0] : signature)) {
      return reply(401, { error: "missing or invalid X-Hub-Signature-256", hint: "Set the webhook's secret to the daemon's --webhook-secret." });
    }
    const event = req.headers["x-github-event"];
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
