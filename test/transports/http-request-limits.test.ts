/**
 * What the HTTP edge does with requests that arrive too slowly, too big or malformed: a stalled or
 * dribbled request is cut with 408 within the configured time (here 300 ms, so the test is quick),
 * while answers are never timed (an event stream and a slow call outlive the timeout); a body over
 * the limit gets a 413 that fetch actually reads; a broken percent-encoding in a per-server path is
 * a 400. The daemon is the one `serve` assembles, with in-process upstreams (no Docker).
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import type { InProcessDaemon } from "../support/in-process-daemon.js";
import { initializeSession, mcpHeaders, sessionRequest, startInProcessDaemon } from "../support/in-process-daemon.js";

const HEADERS_TIMEOUT_MS = 200;
const BODY_TIMEOUT_MS = 300;
/** Generous: the cut must come, however slow the machine; it cannot come before the timeout. */
const CUT_WITHIN_MS = 10_000;

/** Opens a raw connection, writes `head`, then `drip` every `everyMs` (if given); resolves with what came back once the server closes. */
function rawRequest(url: URL, head: string, drip?: { chunk: string; everyMs: number }): Promise<{ text: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const socket = connect(Number(url.port), url.hostname, () => socket.write(head));
    let text = "";
    const timer = drip ? setInterval(() => socket.writable && socket.write(drip.chunk), drip.everyMs) : undefined;
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server did not cut the request within ${CUT_WITHIN_MS} ms`));
    }, CUT_WITHIN_MS);
    socket.on("data", (d: Buffer) => (text += d.toString()));
    socket.on("error", () => undefined); // a reset after the 408 is fine: what matters is the cut
    socket.on("close", () => {
      clearInterval(timer);
      clearTimeout(guard);
      resolve({ text, ms: performance.now() - t0 });
    });
  });
}

describe("HTTP request limits", () => {
  let d: InProcessDaemon;
  before(async () => {
    d = await startInProcessDaemon({ http: { headersTimeoutMs: HEADERS_TIMEOUT_MS, bodyTimeoutMs: BODY_TIMEOUT_MS }, webhookSecret: "webhook-secret-0123456789" });
  });
  after(() => d.close());

  const head = (length: number) =>
    `POST /mcp HTTP/1.1\r\nHost: ${d.url.host}\r\nAuthorization: Bearer ${d.key}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: ${length}\r\n\r\n`;

  it("cuts a POST whose body stalls after the headers with 408", async () => {
    const { text, ms } = await rawRequest(d.url, `${head(100)}{"jsonrpc":`);
    assert.match(text, /^HTTP\/1\.1 408/);
    assert.ok(ms >= BODY_TIMEOUT_MS * 0.8, `not before the timeout (${Math.round(ms)} ms)`);
  });

  it("cuts a POST whose body dribbles in a byte at a time with 408", async () => {
    const { text } = await rawRequest(d.url, head(10_000), { chunk: " ", everyMs: 20 });
    assert.match(text, /^HTTP\/1\.1 408/);
  });

  it("cuts a request whose headers stall with 408", async () => {
    const { text } = await rawRequest(d.url, `GET /healthz HTTP/1.1\r\nHost: ${d.url.host}\r\n`);
    assert.match(text, /^HTTP\/1\.1 408/);
  });

  it("does not time a Streamable HTTP GET stream: it is still open after several timeouts", async () => {
    const { sessionId } = await initializeSession(d.url, d.key);
    assert.ok(sessionId);
    const abort = new AbortController();
    const stream = await fetch(new URL("/mcp", d.url), { headers: { authorization: `Bearer ${d.key}`, accept: "text/event-stream", "mcp-session-id": sessionId }, signal: abort.signal });
    assert.equal(stream.status, 200);
    await new Promise((r) => setTimeout(r, BODY_TIMEOUT_MS * 4));
    const second = await fetch(new URL("/mcp", d.url), { headers: { authorization: `Bearer ${d.key}`, accept: "text/event-stream", "mcp-session-id": sessionId } });
    assert.equal(second.status, 409, "the first stream is still open (only one is allowed per session)");
    await second.body?.cancel();
    abort.abort();
    await stream.body?.cancel().catch(() => undefined);
  });

  it("does not time a long call: its answer comes after the request timeout and is delivered", async () => {
    const { sessionId } = await initializeSession(d.url, d.key);
    assert.ok(sessionId);
    await sessionRequest(d.url, d.key, sessionId, { jsonrpc: "2.0", method: "notifications/initialized" });
    const t0 = performance.now();
    // `slow` ends calls after 1 s (its registry time limit): the answer comes long after 300 ms.
    const call = await sessionRequest(d.url, d.key, sessionId, { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "slow__wait-for-cancel", arguments: {} } });
    assert.ok(performance.now() - t0 >= 900, "the answer came after the call's time limit");
    assert.equal(call.status, 200);
    assert.match(JSON.stringify(call.body), /time|limit/i);
  });

  it("delivers the 413 for a body over the limit to a fetch client (JSON-RPC error, connection: close)", async () => {
    for (const size of [4 * 1024 * 1024 + 1, 6 * 1024 * 1024]) {
      const res = await fetch(new URL("/mcp", d.url), { method: "POST", headers: mcpHeaders(d.key), body: Buffer.alloc(size, 0x20) });
      assert.equal(res.status, 413);
      assert.equal(res.headers.get("connection"), "close");
      const body = (await res.json()) as { jsonrpc: string; error: { message: string } };
      assert.equal(body.jsonrpc, "2.0");
      assert.match(body.error.message, /larger than 4194304 bytes/);
    }
    // The connection pool recovers: the next request is served.
    assert.equal((await fetch(new URL("/healthz", d.url))).status, 200);
  });

  it("delivers the webhook's 413 too", async () => {
    const res = await fetch(new URL("/hooks/github", d.url), { method: "POST", headers: { "content-type": "application/json" }, body: Buffer.alloc(6 * 1024 * 1024, 0x20) });
    assert.equal(res.status, 413);
    assert.match(JSON.stringify(await res.json()), /payload too large/);
  });

  it("answers a per-server path with broken percent-encoding with 400, not 500", async () => {
    const res = await fetch(new URL("/servers/%E0%A4%A/mcp", d.url), { method: "POST", headers: mcpHeaders(d.key), body: "{}" });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { message: string } };
    assert.match(body.error.message, /not valid percent-encoding/);
  });
});
