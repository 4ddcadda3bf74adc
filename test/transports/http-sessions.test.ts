/**
 * Sessions over HTTP are bounded: at most `maxSessions` at once (Streamable HTTP and legacy SSE
 * together; one more gets 503 with Retry-After and a JSON-RPC error naming --max-sessions), and a
 * Streamable HTTP session with no request and no open stream for `sessionIdleMs` is closed (its
 * per-session upstream ended through the usual close path; its id then gets 404). The daemon is
 * the one `serve` assembles, with in-process upstreams (no Docker), driven with node's fetch.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { nextEvent } from "../support/in-process-launcher.js";
import type { InProcessDaemon } from "../support/in-process-daemon.js";
import { initializeSession, mcpHeaders, sessionRequest, startInProcessDaemon } from "../support/in-process-daemon.js";

const INITIALIZED = { jsonrpc: "2.0", method: "notifications/initialized" };

describe("HTTP sessions: the cap", () => {
  let d: InProcessDaemon;
  before(async () => {
    d = await startInProcessDaemon({ http: { maxSessions: 3, sessionIdleMs: 0 } });
  });
  after(() => d.close());

  it("holds the cap across /mcp and /servers/<prefix>/mcp, answers one more with 503 + Retry-After, and has room again after a DELETE", async () => {
    const opened = [await initializeSession(d.url, d.key), await initializeSession(d.url, d.key, "/servers/percall/mcp"), await initializeSession(d.url, d.key)];
    assert.deepEqual(opened.map((o) => o.status), [200, 200, 200]);
    assert.equal(d.daemon.http!.sessionCount, 3);

    const refused = await initializeSession(d.url, d.key);
    assert.equal(refused.status, 503);
    assert.equal(refused.sessionId, null);
    assert.match(refused.retryAfter ?? "", /^\d+$/);
    assert.equal(refused.body.error?.code, -32000);
    assert.match(refused.body.error?.message ?? "", /limit of 3 sessions.*--max-sessions/);
    assert.equal(d.daemon.http!.sessionCount, 3, "the refused initialize opened nothing");

    // Requests on held sessions still work at the cap.
    const ping = await sessionRequest(d.url, d.key, opened[0]!.sessionId!, { jsonrpc: "2.0", id: 2, method: "ping" });
    assert.equal(ping.status, 200);

    const del = await fetch(new URL("/mcp", d.url), { method: "DELETE", headers: mcpHeaders(d.key, { "mcp-session-id": opened[2]!.sessionId! }) });
    assert.equal(del.status, 200);
    assert.equal(d.daemon.http!.sessionCount, 2);
    assert.equal((await initializeSession(d.url, d.key)).status, 200);
  });

  it("counts legacy SSE sessions too: /sse at the cap gets 503", async () => {
    assert.equal(d.daemon.http!.sessionCount, 3);
    const res = await fetch(new URL("/sse", d.url), { headers: { authorization: `Bearer ${d.key}`, accept: "text/event-stream" } });
    assert.equal(res.status, 503);
    assert.ok(res.headers.get("retry-after"));
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /--max-sessions/);
  });
});

describe("HTTP sessions: idle expiry", () => {
  const IDLE_MS = 300;
  let d: InProcessDaemon;
  before(async () => {
    d = await startInProcessDaemon({ http: { sessionIdleMs: IDLE_MS } });
  });
  after(() => d.close());

  it("closes a session idle for the configured time: its per-session upstream ends, and its id then gets 404", async () => {
    const { sessionId } = await initializeSession(d.url, d.key);
    assert.ok(sessionId);
    await sessionRequest(d.url, d.key, sessionId, INITIALIZED);
    const started = nextEvent(d.launcher.events, "started", (e) => e.prefix === "persession");
    const stopped = nextEvent(d.launcher.events, "stopped", (e) => e.prefix === "persession");
    const call = await sessionRequest(d.url, d.key, sessionId, { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "persession__remember", arguments: { note: "a" } } });
    assert.equal(call.status, 200, JSON.stringify(call.body));
    const instance = await started;

    const ended = await stopped;
    assert.equal(ended.id, instance.id);
    assert.equal(ended.reason, "session ended");
    assert.equal(d.daemon.http!.sessionCount, 0);
    const later = await sessionRequest(d.url, d.key, sessionId, { jsonrpc: "2.0", id: 3, method: "ping" });
    assert.equal(later.status, 404);
    assert.match(JSON.stringify(later.body), /session not found/);
  });

  it("keeps a session whose client holds its GET stream open, however long it is quiet", async () => {
    const { sessionId } = await initializeSession(d.url, d.key);
    assert.ok(sessionId);
    const abort = new AbortController();
    const stream = await fetch(new URL("/mcp", d.url), { headers: { authorization: `Bearer ${d.key}`, accept: "text/event-stream", "mcp-session-id": sessionId }, signal: abort.signal });
    assert.equal(stream.status, 200);
    await new Promise((r) => setTimeout(r, IDLE_MS * 4));
    const ping = await sessionRequest(d.url, d.key, sessionId, { jsonrpc: "2.0", id: 2, method: "ping" });
    assert.equal(ping.status, 200, "the session outlived the idle time while its stream was open");
    abort.abort();
    await stream.body?.cancel().catch(() => undefined);
  });

  it("keeps a session while a call of it is unanswered, and closes it once it is idle after", async () => {
    const { sessionId } = await initializeSession(d.url, d.key);
    assert.ok(sessionId);
    await sessionRequest(d.url, d.key, sessionId, INITIALIZED);
    const waiting = nextEvent(d.probeEvents, "waiting");
    const abort = new AbortController();
    const call = fetch(new URL("/mcp", d.url), {
      method: "POST",
      headers: mcpHeaders(d.key, { "mcp-session-id": sessionId, "mcp-protocol-version": "2025-06-18" }),
      body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "percall__wait-for-cancel", arguments: {} } }),
      signal: abort.signal,
    }).catch(() => undefined);
    await waiting;
    await new Promise((r) => setTimeout(r, IDLE_MS * 4));
    const ping = await sessionRequest(d.url, d.key, sessionId, { jsonrpc: "2.0", id: 3, method: "ping" });
    assert.equal(ping.status, 200, "the session outlived the idle time while a call was open");
    abort.abort();
    await call;
    const deadline = Date.now() + 10_000;
    while (d.daemon.http!.sessionCount > 0) {
      assert.ok(Date.now() < deadline, "the session is closed once idle after its call");
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal((await sessionRequest(d.url, d.key, sessionId, { jsonrpc: "2.0", id: 4, method: "ping" })).status, 404);
  });
});
