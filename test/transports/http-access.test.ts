/**
 * Who may reach the HTTP edge: the Host/Origin checks against DNS rebinding apply to every route
 * (health, readiness, the webhook included; public routes skip only the bearer key), a health check
 * naming the bound address passes, and a browser on an allowed Origin gets CORS answers (a 204
 * preflight without a key, CORS headers on real answers) while any other Origin gets 403.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import type { InProcessDaemon } from "../support/in-process-daemon.js";
import { INITIALIZE, mcpHeaders, startInProcessDaemon } from "../support/in-process-daemon.js";

const APP = "https://app.example.com";

/** A request with any Host header (fetch does not let a caller set it). */
function get(url: URL, path: string, headers: Record<string, string>, method = "GET"): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method, headers }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("HTTP access: Host and Origin on every route", () => {
  let d: InProcessDaemon;
  before(async () => {
    d = await startInProcessDaemon({ http: { allowedOrigins: [APP] }, webhookSecret: "webhook-secret-0123456789" });
  });
  after(() => d.close());

  for (const [path, method] of [
    ["/healthz", "GET"],
    ["/readyz", "GET"],
    ["/hooks/github", "POST"],
  ] as const) {
    it(`refuses ${method} ${path} under a foreign Host or from a foreign Origin (403)`, async () => {
      const host = await get(d.url, path, { host: "rebound.attacker.example" }, method);
      assert.equal(host.status, 403);
      assert.match(host.body, /--allow-host/);
      const origin = await get(d.url, path, { host: d.url.host, origin: "https://attacker.example" }, method);
      assert.equal(origin.status, 403);
      assert.match(origin.body, /--allow-origin/);
    });
  }

  it("serves /healthz to a health check naming the bound address or localhost, without a key", async () => {
    assert.equal((await get(d.url, "/healthz", { host: d.url.host })).status, 200);
    assert.equal((await get(d.url, "/healthz", { host: `localhost:${d.url.port}` })).status, 200);
  });

  it("answers a preflight from an allowed Origin with 204 and the CORS headers, without a key", async () => {
    const res = await fetch(new URL("/mcp", d.url), {
      method: "OPTIONS",
      headers: { origin: APP, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type, mcp-session-id" },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), APP);
    assert.equal(res.headers.get("vary"), "origin");
    assert.equal(res.headers.get("access-control-allow-methods"), "GET, POST, DELETE, OPTIONS");
    const allowed = (res.headers.get("access-control-allow-headers") ?? "").split(/,\s*/);
    for (const h of ["authorization", "content-type", "accept", "mcp-session-id", "mcp-protocol-version", "last-event-id", "mcp-method", "mcp-name"]) assert.ok(allowed.includes(h), `allows ${h}`);
    assert.deepEqual((res.headers.get("access-control-expose-headers") ?? "").split(/,\s*/).sort(), ["mcp-session-id", "www-authenticate"]);
    assert.match(res.headers.get("access-control-max-age") ?? "", /^\d+$/);
  });

  it("refuses a preflight from another Origin with 403", async () => {
    const res = await fetch(new URL("/mcp", d.url), { method: "OPTIONS", headers: { origin: "https://attacker.example", "access-control-request-method": "POST" } });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get("access-control-allow-origin"), null);
  });

  it("puts the CORS headers on real answers to an allowed Origin, a 401 included", async () => {
    const ok = await fetch(new URL("/mcp", d.url), { method: "POST", headers: mcpHeaders(d.key, { origin: APP }), body: JSON.stringify(INITIALIZE) });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("access-control-allow-origin"), APP);
    assert.equal(ok.headers.get("vary"), "origin");
    assert.match(ok.headers.get("access-control-expose-headers") ?? "", /mcp-session-id/);
    assert.ok(ok.headers.get("mcp-session-id"));
    await ok.body?.cancel();
    const denied = await fetch(new URL("/mcp", d.url), { method: "POST", headers: { origin: APP, "content-type": "application/json" }, body: JSON.stringify(INITIALIZE) });
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get("access-control-allow-origin"), APP);
    assert.ok(denied.headers.get("www-authenticate"));
  });

  it("answers requests without an Origin without CORS headers", async () => {
    const res = await fetch(new URL("/healthz", d.url));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("access-control-allow-origin"), null);
  });
});

describe("HTTP access: a wildcard bind", () => {
  it("checks no Host without --allow-host, and with it accepts the listed names and loopback ones (a health check inside the container)", async () => {
    const open = await startInProcessDaemon({ http: { host: "0.0.0.0" } });
    const listed = await startInProcessDaemon({ http: { host: "0.0.0.0", allowedHosts: ["gw.internal:8808"] } });
    try {
      const local = (d: InProcessDaemon) => new URL(`http://127.0.0.1:${d.url.port}/`);
      assert.equal((await get(local(open), "/healthz", { host: "anything.example" })).status, 200);
      assert.equal((await get(local(listed), "/healthz", { host: "gw.internal:8808" })).status, 200);
      assert.equal((await get(local(listed), "/healthz", { host: `127.0.0.1:${listed.url.port}` })).status, 200);
      assert.equal((await get(local(listed), "/healthz", { host: "rebound.attacker.example" })).status, 403);
    } finally {
      await open.close();
      await listed.close();
    }
  });
});
