/**
 * Rate limits of the access policy: token buckets on their own (a clock of the test's), then end
 * to end: a burst of concurrent calls by one principal gets exactly the burst through and the rest
 * 429 with Retry-After (2026 requests) or a JSON-RPC error with the retry time (2025 sessions);
 * reconnecting, a new session, another endpoint or a fresh token of the same subject refill
 * nothing; another principal is not affected; the refusals are counted per principal in metrics.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { CompiledLimit } from "../../src/auth/access-policy.js";
import { AccessPolicy } from "../../src/auth/access-policy.js";
import { RateLimiter } from "../../src/auth/rate-limiter.js";
import { parseAccessFile } from "../../src/registry/access-file.js";
import { RATE_LIMITED } from "../../src/gateway/access-view.js";
import type { InProcessDaemon } from "../support/in-process-daemon.js";
import { startInProcessDaemon } from "../support/in-process-daemon.js";
import { modernRequest, openSession } from "../support/mcp-raw.js";
import type { TestIssuer } from "../support/oidc-issuer.js";
import { startTestIssuer } from "../support/oidc-issuer.js";

/** The limits a policy puts on one OAuth subject's calls, by server and name. */
function limitsOf(yaml: string, subject = "bob"): (prefix: string, name: string) => readonly CompiledLimit[] {
  const { policy, diagnostics } = parseAccessFile("a", "access.yaml", yaml);
  assert.deepEqual(diagnostics, []);
  const access = new AccessPolicy(policy).accessFor({ kind: "oauth", id: `oauth:${subject}`, subject, issuer: "x", scopes: [], groups: [], expiresAt: 0 });
  return (prefix, name) => access.limits(prefix, name);
}

describe("token buckets", () => {
  const grants = `grants:\n  - who: ["*"]\n    servers: ["*"]\n`;

  it("let the burst through, then one call per refill interval", () => {
    let now = 0;
    const limiter = new RateLimiter(() => now);
    const limits = limitsOf(`${grants}limits:\n  - who: ["subject:bob"]\n    rate: 60/minute\n    burst: 3\n`)("memory", "read");
    for (let i = 0; i < 3; i++) assert.equal(limiter.take("oauth:bob", limits, "memory", "read"), undefined);
    assert.equal(limiter.take("oauth:bob", limits, "memory", "read")?.retryAfterMs, 1000);
    now = 999;
    assert.ok(limiter.take("oauth:bob", limits, "memory", "read"));
    now = 1000;
    assert.equal(limiter.take("oauth:bob", limits, "memory", "read"), undefined);
    assert.ok(limiter.take("oauth:bob", limits, "memory", "read"));
    assert.equal(limiter.take("oauth:alice", limits, "memory", "read"), undefined, "each principal has its own bucket");
  });

  it("keep one bucket per server or per tool when the rule says so, and only count what it names", () => {
    const limiter = new RateLimiter(() => 0);
    const of = limitsOf(`${grants}limits:\n  - who: ["*"]\n    servers: ["memory"]\n    rate: 1/hour\n    per: tool\n`);
    assert.equal(limiter.take("oauth:bob", of("memory", "read"), "memory", "read"), undefined);
    assert.ok(limiter.take("oauth:bob", of("memory", "read"), "memory", "read"));
    assert.equal(limiter.take("oauth:bob", of("memory", "write"), "memory", "write"), undefined, "another tool, another bucket");
    assert.deepEqual(of("git", "read"), [], "another server is not limited");
  });

  it("take a token from every bucket or from none", () => {
    const limiter = new RateLimiter(() => 0);
    const of = limitsOf(`${grants}limits:\n  - who: ["*"]\n    rate: 10/hour\n  - who: ["*"]\n    tools: ["write"]\n    rate: 1/hour\n`);
    assert.equal(limiter.take("oauth:bob", of("m", "write"), "m", "write"), undefined);
    for (let i = 0; i < 3; i++) assert.equal(limiter.take("oauth:bob", of("m", "write"), "m", "write")?.limit.rate, "1/hour");
    // The refused writes cost the 10/hour bucket nothing: 9 more reads pass, the 10th is refused.
    for (let i = 0; i < 9; i++) assert.equal(limiter.take("oauth:bob", of("m", "read"), "m", "read"), undefined, `read ${i}`);
    assert.equal(limiter.take("oauth:bob", of("m", "read"), "m", "read")?.limit.rate, "10/hour");
  });
});

describe("rate limits, end to end", () => {
  const BURST = 3;
  let issuer: TestIssuer;
  let d: InProcessDaemon;
  let base: string;

  before(async () => {
    issuer = await startTestIssuer([{ id: "alice" }, { id: "bob" }]);
    d = await startInProcessDaemon({
      http: { oauth: { issuer: issuer.issuer } },
      access: `grants:\n  - who: ["*"]\n    servers: ["*"]\nlimits:\n  - who: ["subject:bob"]\n    servers: ["percall"]\n    tools: ["whoami"]\n    rate: ${BURST}/hour\n`,
    });
    base = d.url.href.replace(/\/$/, "");
  });
  after(async () => {
    await d.close();
    await issuer.close();
  });

  it("hold under a burst: of 20 concurrent calls exactly the burst passes, the rest get 429 with Retry-After", async () => {
    const bob = await issuer.token("bob", `${base}/mcp`);
    const replies = await Promise.all(Array.from({ length: 20 }, () => modernRequest(d.url, "/mcp", bob, "tools/call", { name: "percall__whoami", arguments: {} })));
    const passed = replies.filter((r) => r.status === 200 && r.body.error === undefined);
    const limited = replies.filter((r) => r.status === 429);
    assert.equal(passed.length, BURST);
    assert.equal(limited.length, 20 - BURST);
    for (const r of limited) {
      assert.equal(r.body.error?.code, RATE_LIMITED);
      assert.match(r.body.error?.message ?? "", /^oauth:bob is over the rate limit of 3\/hour \(burst 3, per principal\) of the registry's access\.yaml for tool "whoami" of server "percall"; retry after \d+ s$/);
      // 3 per hour: the next token is 20 minutes away.
      assert.ok(Number(r.retryAfter) > 1000 && Number(r.retryAfter) <= 1200, `Retry-After ${r.retryAfter}`);
      assert.equal(r.body.error?.data?.retryAfterSeconds, Number(r.retryAfter));
    }
  });

  it("are not reset by a new session, another endpoint or a fresh token of the same subject", async () => {
    const fresh = await issuer.token("bob", `${base}/mcp`);
    const session = await openSession(d.url, "/mcp", fresh);
    const inSession = await session.request("tools/call", { name: "percall__whoami", arguments: {} });
    assert.equal(inSession.status, 200, "a 2025 session's answer is a JSON-RPC error, not an HTTP one");
    assert.equal(inSession.body.error?.code, RATE_LIMITED);
    assert.ok(Number(inSession.body.error?.data?.retryAfterSeconds) > 1000);
    await session.close();
    const again = await openSession(d.url, "/servers/percall/mcp", fresh);
    assert.equal((await again.request("tools/call", { name: "whoami", arguments: {} })).body.error?.code, RATE_LIMITED);
    await again.close();
    assert.equal((await modernRequest(d.url, "/mcp", fresh, "tools/call", { name: "percall__whoami", arguments: {} })).status, 429);
  });

  it("limit only what they name, for whom they name", async () => {
    const bob = await issuer.token("bob", `${base}/mcp`);
    const alice = await issuer.token("alice", `${base}/mcp`);
    assert.equal((await modernRequest(d.url, "/mcp", bob, "tools/call", { name: "persession__whoami", arguments: {} })).status, 200, "another server");
    for (let i = 0; i < 5; i++) assert.equal((await modernRequest(d.url, "/mcp", alice, "tools/call", { name: "percall__whoami", arguments: {} })).status, 200, "another principal");
  });

  it("are counted per principal in the metrics", async () => {
    const text = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${d.key}` } })).text();
    const count = (principal: string, outcome: string) => Number(new RegExp(`^mcp_router_principal_calls_total\\{principal="${principal}",outcome="${outcome}"\\} (\\d+)$`, "m").exec(text)?.[1] ?? 0);
    assert.equal(count("oauth:bob", "ok"), BURST + 1);
    assert.equal(count("oauth:bob", "rate_limited"), 20 - BURST + 3);
    assert.equal(count("oauth:alice", "ok"), 5);
  });
});
