/**
 * Reliability suite: the HTTP edge under abuse, without Docker (the daemon as `serve` assembles it,
 * with in-process upstreams: test/support/in-process-daemon.ts).
 *
 * 9. Sessions held at the cap: cap + 50 clients initialize against a cap of 200; exactly 200 are
 *    held, the rest get 503 with Retry-After, the heap grows by a bounded amount per session, and a
 *    short idle setting empties a full gateway again.
 * 10. Malformed requests answered: a corpus of malformed requests to /mcp and
 *    /servers/<prefix>/mcp (bad ids and params, invalid JSON, wrong content type, oversized and
 *    empty bodies, garbage batches, unknown sessions, broken percent-encoding), each with and
 *    without a session: every one gets an HTTP answer within 5 s, none a 5xx.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { after, describe, it } from "node:test";
import type { InProcessDaemon } from "../support/in-process-daemon.js";
import { initializeSession, mcpHeaders, startInProcessDaemon } from "../support/in-process-daemon.js";
import { Figures, since, waitFor } from "./figures.js";

const figures = new Figures("HTTP limits: sessions and malformed requests");
const CAP = 200;
const EXTRA = 50;
/** Generous: a gateway session plus its transport is a few KB; this catches a leak of its buffers or catalogs. */
const MAX_KB_PER_SESSION = 100;
const ANSWER_WITHIN_MS = 5_000;

/** A full garbage collection, when this process can have one (node --expose-gc, or the V8 flag set now). */
function collector(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  try {
    setFlagsFromString("--expose-gc");
    return runInNewContext("gc") as () => void;
  } catch {
    return undefined;
  }
}

async function heapAfterGc(gc: (() => void) | undefined): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 20));
  }
  return process.memoryUsage().heapUsed;
}

/** Opens `count` sessions, `concurrency` at a time; the results in order. */
async function initializeMany(d: InProcessDaemon, count: number, concurrency = 10): Promise<Array<Awaited<ReturnType<typeof initializeSession>>>> {
  const results: Array<Awaited<ReturnType<typeof initializeSession>>> = [];
  for (let i = 0; i < count; i += concurrency) {
    const batch = Array.from({ length: Math.min(concurrency, count - i) }, () => initializeSession(d.url, d.key));
    results.push(...(await Promise.all(batch)));
  }
  return results;
}

describe("reliability: HTTP limits", { timeout: 180_000 }, () => {
  after(() => figures.print());

  it(`9. sessions held at the cap: ${CAP + EXTRA} initializes against a cap of ${CAP}, then idle expiry`, async () => {
    await figures.scenario("9. sessions at the cap", async () => {
      // Held: no idle expiry here, so a slow machine cannot lose sessions while they are opened.
      const held = await startInProcessDaemon({ http: { maxSessions: CAP, sessionIdleMs: 0 } });
      try {
        const gc = collector();
        await initializeMany(held, 5); // warm up (first-use allocations are not per-session cost)
        const warm = held.daemon.http!.sessionCount;
        const before = await heapAfterGc(gc);
        const results = await initializeMany(held, CAP + EXTRA - warm);
        const heldNow = held.daemon.http!.sessionCount;
        const growth = (await heapAfterGc(gc)) - before;
        const opened = results.filter((r) => r.status === 200 && r.sessionId).length;
        const refused = results.filter((r) => r.status === 503);
        const withRetry = refused.filter((r) => /^\d+$/.test(r.retryAfter ?? "") && /--max-sessions/.test(r.body.error?.message ?? "")).length;
        figures.check(
          "9. sessions at the cap",
          `${heldNow} held of ${CAP + EXTRA} initializes; ${refused.length} got 503, ${withRetry} of them with Retry-After and the flag named`,
          `exactly ${CAP} held; ${EXTRA} × 503 + Retry-After`,
          heldNow === CAP && opened + warm === CAP && refused.length === EXTRA && withRetry === EXTRA,
          JSON.stringify(results.filter((r) => r.status !== 200 && r.status !== 503).slice(0, 3)),
        );
        const perSessionKb = growth / 1024 / opened;
        figures.check(
          "9. sessions at the cap",
          `heap +${(growth / 1024 / 1024).toFixed(1)} MB for ${opened} sessions (${perSessionKb.toFixed(1)} KB each${gc ? ", after full GCs" : ", no GC available: loose"})`,
          `< ${MAX_KB_PER_SESSION} KB per session`,
          perSessionKb < MAX_KB_PER_SESSION,
        );
      } finally {
        await held.close();
      }

      // Expiry: the same cap, full, with a short idle setting; nothing is sent after the initializes.
      const idleMs = 500;
      const expiring = await startInProcessDaemon({ http: { maxSessions: CAP, sessionIdleMs: idleMs } });
      try {
        const results = await initializeMany(expiring, CAP);
        const opened = results.filter((r) => r.status === 200).length;
        const t0 = performance.now();
        await waitFor("every idle session to be closed", () => expiring.daemon.http!.sessionCount === 0, 30_000);
        const emptiedMs = since(t0);
        const again = await initializeSession(expiring.url, expiring.key);
        figures.check(
          "9. sessions at the cap",
          `${opened} sessions closed ${emptiedMs} ms after the last initialize (idle ${idleMs} ms); a new session then ${again.status}`,
          "all closed (≤ 30 s), a new session 200",
          opened === CAP && expiring.daemon.http!.sessionCount === 1 && again.status === 200,
        );
      } finally {
        await expiring.close();
      }
    });
  });

  it("10. malformed requests to /mcp and /servers/<prefix>/mcp: every one answered within 5 s, none with a 5xx", async () => {
    await figures.scenario("10. malformed requests", async () => {
      const d = await startInProcessDaemon({ http: { maxSessions: CAP } });
      try {
        const bodies: Array<[string, string]> = [
          ["object id", JSON.stringify({ jsonrpc: "2.0", id: { a: 1 }, method: "tools/list" })],
          ["null id", JSON.stringify({ jsonrpc: "2.0", id: null, method: "tools/list" })],
          ["boolean id", JSON.stringify({ jsonrpc: "2.0", id: true, method: "tools/list" })],
          ["fractional id", JSON.stringify({ jsonrpc: "2.0", id: 1.5, method: "tools/list" })],
          ["array id", JSON.stringify({ jsonrpc: "2.0", id: [1], method: "tools/list" })],
          ["params an array", JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: [1, 2] })],
          ["params a string", JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: "x" })],
          ["method a number", JSON.stringify({ jsonrpc: "2.0", id: 1, method: 7 })],
          ["jsonrpc 1.0", JSON.stringify({ jsonrpc: "1.0", id: 1, method: "ping" })],
          ["invalid JSON", '{"jsonrpc":"2.0","id":1,"method":'],
          ["empty body", ""],
          ["a bare string", '"hello"'],
          ["batch of garbage", JSON.stringify([1, "x", null, {}, { jsonrpc: "2.0" }])],
          ["empty batch", "[]"],
          ["initialize in a batch", JSON.stringify([{ jsonrpc: "2.0", id: 1, method: "initialize", params: {} }, { jsonrpc: "2.0", id: 2, method: "ping" }])],
          ["oversized body", " ".repeat(4 * 1024 * 1024 + 1)],
        ];
        const paths = ["/mcp", "/servers/percall/mcp"];
        const sessions = new Map<string, string>();
        for (const path of paths) {
          const opened = await initializeSession(d.url, d.key, path);
          if (!opened.sessionId) throw new Error(`initialize on ${path} failed: ${opened.status}`);
          sessions.set(path, opened.sessionId);
        }
        type Case = { what: string; path: string; init: RequestInit };
        const cases: Case[] = [];
        for (const path of paths) {
          for (const session of [undefined, sessions.get(path)]) {
            const sid: Record<string, string> = session ? { "mcp-session-id": session } : {};
            const tag = `${path}${session ? " (session)" : ""}`;
            for (const [what, body] of bodies) cases.push({ what: `${what} ${tag}`, path, init: { method: "POST", headers: mcpHeaders(d.key, sid), body } });
            cases.push({ what: `wrong content-type ${tag}`, path, init: { method: "POST", headers: mcpHeaders(d.key, { ...sid, "content-type": "text/plain" }), body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' } });
            cases.push({ what: `no accept ${tag}`, path, init: { method: "POST", headers: { authorization: `Bearer ${d.key}`, "content-type": "application/json", ...sid }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' } });
            cases.push({ what: `GET without text/event-stream ${tag}`, path, init: { method: "GET", headers: { authorization: `Bearer ${d.key}`, accept: "application/json", ...sid } } });
            cases.push({ what: `PUT ${tag}`, path, init: { method: "PUT", headers: mcpHeaders(d.key, sid), body: "{}" } });
          }
          cases.push({ what: `unknown session id ${path}`, path, init: { method: "POST", headers: mcpHeaders(d.key, { "mcp-session-id": "no-such-session" }), body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' } });
        }
        cases.push({ what: "bad percent-encoding", path: "/servers/%E0%A4%A/mcp", init: { method: "POST", headers: mcpHeaders(d.key), body: "{}" } });
        cases.push({ what: "unknown server prefix", path: "/servers/no-such-server/mcp", init: { method: "POST", headers: mcpHeaders(d.key), body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' } });

        const outcomes = await Promise.all(
          cases.map(async (c) => {
            try {
              const res = await fetch(new URL(c.path, d.url), { ...c.init, signal: AbortSignal.timeout(ANSWER_WITHIN_MS) });
              await res.arrayBuffer();
              return { what: c.what, status: res.status };
            } catch (error) {
              return { what: c.what, status: 0, error: (error as Error).name };
            }
          }),
        );
        const answered = outcomes.filter((o) => o.status > 0);
        const serverErrors = answered.filter((o) => o.status >= 500);
        const statuses = [...new Set(answered.map((o) => o.status))].sort().join(", ");
        figures.check(
          "10. malformed requests",
          `${answered.length} of ${cases.length} answered within ${ANSWER_WITHIN_MS / 1000} s (statuses ${statuses}); ${serverErrors.length} × 5xx`,
          "all answered, none hung, 0 × 5xx",
          answered.length === cases.length && serverErrors.length === 0,
          JSON.stringify(outcomes.filter((o) => o.status === 0 || o.status >= 500)),
        );
        // The sessions the garbage was sent on still work.
        const alive = await Promise.all(
          paths.map(async (path) => {
            const res = await fetch(new URL(path, d.url), { method: "POST", headers: mcpHeaders(d.key, { "mcp-session-id": sessions.get(path)!, "mcp-protocol-version": "2025-06-18" }), body: '{"jsonrpc":"2.0","id":99,"method":"ping"}' });
            await res.arrayBuffer();
            return res.status;
          }),
        );
        figures.check("10. malformed requests", `pings on both sessions afterwards: ${alive.join(", ")}`, "200, 200", alive.every((s) => s === 200));
      } finally {
        await d.close();
      }
    });
  });
});
