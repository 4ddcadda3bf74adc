/**
 * The console's API against a real daemon (startDaemon, in-process upstreams): sign-in with an
 * API key into a cookie session, CSRF on every change, sign-out, idle expiry, the overview and its
 * event stream, the server page, and trying a tool as the signed-in principal.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { apiKeyId } from "../../src/auth/api-keys.js";
import { openEvents, signIn } from "../support/console-client.js";
import type { InProcessDaemon } from "../support/in-process-daemon.js";
import { startInProcessDaemon } from "../support/in-process-daemon.js";
import { probePackage } from "../support/in-process-servers.js";
import { testServer, writeRegistry } from "../support/servers.js";

const json = { "content-type": "application/json" };

describe("web console API", () => {
  let d: InProcessDaemon;
  before(async () => {
    d = await startInProcessDaemon();
  });
  after(() => d.close());

  it("serves its page and files without a key, with security headers, and nothing outside its folder", async () => {
    const page = await fetch(new URL("/", d.url));
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(page.headers.get("content-security-policy") ?? "", /script-src 'self'/);
    assert.equal(page.headers.get("x-frame-options"), "DENY");
    assert.match(await page.text(), /<script type="module" src="\/ui\/app.js">/);
    const script = await fetch(new URL("/ui/app.js", d.url));
    assert.equal(script.status, 200);
    assert.match(script.headers.get("content-type") ?? "", /^text\/javascript/);
    const etag = script.headers.get("etag");
    assert.ok(etag);
    assert.equal((await fetch(new URL("/ui/app.js", d.url), { headers: { "if-none-match": etag } })).status, 304, "an unchanged file is not sent again");
    const escape = await fetch(new URL("/ui/%2e%2e%2f%2e%2e%2fpackage.json", d.url));
    assert.equal(escape.status, 404);
    assert.equal((await fetch(new URL("/ui/nothing.js", d.url))).status, 404);
  });

  it("refuses every API route without a session, saying whether it ended", async () => {
    const none = await fetch(new URL("/api/console/overview", d.url));
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as { error: { code: string } }).error.code, "SIGNED_OUT");
    const old = await fetch(new URL("/api/console/servers/percall", d.url), { headers: { cookie: "mcpr_console=forged-or-old" } });
    assert.equal(old.status, 401);
    assert.equal(((await old.json()) as { error: { code: string } }).error.code, "SESSION_EXPIRED");
    // The bearer key is the gateway's way in, not the console's: the console needs its session.
    const bearer = await fetch(new URL("/api/console/overview", d.url), { headers: { authorization: `Bearer ${d.key}` } });
    assert.equal(bearer.status, 401);
  });

  it("signs in only with a key the gateway accepts, into an HttpOnly SameSite=Strict cookie", async () => {
    const wrong = await fetch(new URL("/api/console/session", d.url), { method: "POST", headers: json, body: JSON.stringify({ key: "not-a-key-the-daemon-knows" }) });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get("set-cookie"), null);
    assert.equal(((await wrong.json()) as { error: { code: string } }).error.code, "KEY_REFUSED");
    const empty = await fetch(new URL("/api/console/session", d.url), { method: "POST", headers: json, body: "{}" });
    assert.equal(empty.status, 400);
    const client = await signIn(d.url, d.key);
    assert.match(client.setCookie, /^mcpr_console=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
    assert.equal(client.principal, `key:${apiKeyId(d.key)}`);
    const session = await client.request("session");
    assert.equal(session.body.signedIn, true);
    assert.equal(session.body.csrfToken, client.csrfToken);
  });

  it("checks Host and Origin on console routes as on every route", async () => {
    const res = await fetch(new URL("/api/console/session", d.url), { method: "POST", headers: { ...json, origin: "http://evil.example" }, body: JSON.stringify({ key: d.key }) });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get("set-cookie"), null);
  });

  it("refuses a state-changing request without the session's CSRF token (403), or without a JSON body (415)", async () => {
    const client = await signIn(d.url, d.key);
    const missing = await client.request("servers/percall/tools/whoami/call", { method: "POST", body: { arguments: {} }, csrf: false });
    assert.equal(missing.status, 403);
    assert.equal(missing.body.error.code, "CSRF_TOKEN_INVALID");
    assert.match(missing.body.error.message, /no CSRF token/);
    const wrong = await client.request("servers/percall/tools/whoami/call", { method: "POST", body: { arguments: {} }, csrf: false, headers: { "x-csrf-token": "x".repeat(43) } });
    assert.equal(wrong.status, 403);
    const other = await signIn(d.url, d.key);
    const crossed = await client.request("session", { method: "DELETE", csrf: false, headers: { "x-csrf-token": other.csrfToken } });
    assert.equal(crossed.status, 403, "another session's token is not this one's");
    const form = await client.request("servers/percall/tools/whoami/call", { method: "POST", body: { arguments: {} }, headers: { "content-type": "application/x-www-form-urlencoded" } });
    assert.equal(form.status, 415);
    assert.equal((await client.request("session")).body.signedIn, true, "refused requests leave the session as it was");
  });

  it("signs out: the cookie is cleared and the session is gone", async () => {
    const client = await signIn(d.url, d.key);
    const res = await fetch(new URL("/api/console/session", d.url), { method: "DELETE", headers: { cookie: client.cookie, "x-csrf-token": client.csrfToken, ...json }, body: "{}" });
    assert.equal(res.status, 204);
    assert.match(res.headers.get("set-cookie") ?? "", /^mcpr_console=; .*Max-Age=0/);
    const after = await client.request("overview");
    assert.equal(after.status, 401);
    assert.equal(after.body.error.code, "SESSION_EXPIRED");
  });

  it("the overview has the revisions and conditions of /status, and every server's tools", async () => {
    const client = await signIn(d.url, d.key);
    const overview = (await client.request("overview")).body;
    const status = (await (await fetch(new URL("/status", d.url), { headers: { authorization: `Bearer ${d.key}` } })).json()) as { lastAppliedRevision: string; lastAttemptedRevision: string };
    assert.equal(overview.lastAppliedRevision, status.lastAppliedRevision);
    assert.equal(overview.lastAttemptedRevision, status.lastAttemptedRevision);
    assert.deepEqual(
      overview.servers.map((s: { prefix: string; condition: string; tools: number }) => [s.prefix, s.condition, s.tools]),
      [
        ["percall", "live", 4],
        ["persession", "live", 4],
        ["slow", "live", 4],
      ],
    );
    const first = overview.reloads.at(-1);
    assert.equal(first.revision, status.lastAppliedRevision);
    assert.deepEqual(first.changes.map((c: { prefix: string; change: string }) => `${c.prefix} ${c.change}`).sort(), ["percall added", "persession added", "slow added"]);
  });

  it("the page of a server that is not serving (a secret not granted) still shows its file and what it is missing", async () => {
    const client = await signIn(d.url, d.key);
    await writeRegistry(d.registryDir, [testServer("needs-token", { ...probePackage(), environmentVariables: [{ name: "NOTES_TOKEN", isSecret: true, isRequired: true, description: "a token" }] })]);
    const events = await openEvents(d.url, client.cookie);
    try {
      await events.next((o) => o.servers.some((s: { prefix: string; condition: string }) => s.prefix === "needs-token" && s.condition === "failed"));
    } finally {
      events.close();
    }
    const page = (await client.request("servers/needs-token")).body;
    assert.equal(page.condition, "failed");
    assert.match(page.message, /NOTES_TOKEN/);
    assert.match(page.fileText, /NOTES_TOKEN/);
    assert.deepEqual(page.secrets, [{ name: "NOTES_TOKEN", secret: true, required: true, description: "a token", set: false }]);
    assert.deepEqual(page.tools, []);
    const call = await client.request("servers/needs-token/tools/whoami/call", { method: "POST", body: { arguments: {} } });
    assert.equal(call.status, 404);
    assert.equal(call.body.error.code, "NO_SUCH_SERVER");
  });

  it("the event stream sends the overview, then again when the registry changes", async () => {
    const client = await signIn(d.url, d.key);
    const events = await openEvents(d.url, client.cookie);
    try {
      assert.equal(events.status, 200);
      const first = await events.next();
      assert.equal(first.data.servers.length, d.daemon.status().servers.length);
      await writeRegistry(d.registryDir, [testServer("added", probePackage())]);
      const changed = await events.next((o) => o.servers.some((s: { prefix: string; condition: string }) => s.prefix === "added" && s.condition === "live"));
      const reload = changed.data.reloads[0];
      assert.ok(reload.changes.some((c: { prefix: string; change: string }) => c.prefix === "added" && c.change === "added"), JSON.stringify(reload));
      assert.equal(changed.data.lastAppliedRevision, d.daemon.status().lastAppliedRevision);
    } finally {
      events.close();
    }
  });

  it("the event stream ends when its session is signed out", async () => {
    const client = await signIn(d.url, d.key);
    const events = await openEvents(d.url, client.cookie);
    await events.next();
    assert.equal((await client.request("session", { method: "DELETE" })).status, 204);
    const last = await events.next();
    assert.equal(last.event, "signed-out");
    events.close();
  });

  it("the server page: its file, tools with input schemas, and the secrets it reads", async () => {
    const client = await signIn(d.url, d.key);
    const page = (await client.request("servers/percall")).body;
    assert.equal(page.condition, "live");
    assert.equal(page.file, "servers/percall.yaml");
    assert.match(page.fileText, /prefix: percall/);
    const remember = page.tools.find((t: { name: string }) => t.name === "remember");
    assert.deepEqual(remember.inputSchema.required, ["note"]);
    assert.deepEqual(page.secrets, []);
    const missing = await client.request("servers/nothing-here");
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, "NO_SUCH_SERVER");
  });

  it("tries a tool through the gateway as the signed-in principal; the call shows in the server's recent calls", async () => {
    const client = await signIn(d.url, d.key);
    const call = await client.request("servers/percall/tools/remember/call", { method: "POST", body: { arguments: { note: "from the console" } } });
    assert.equal(call.status, 200);
    assert.deepEqual(call.body, { ok: true, result: { content: [{ type: "text", text: "notes: from the console" }] } });
    const page = (await client.request("servers/percall")).body;
    const recent = page.recentCalls[0];
    assert.equal(recent.tool, "remember");
    assert.equal(recent.outcome, "ok");
    assert.equal(recent.key, apiKeyId(d.key), "the audit line names the key by its id");
    assert.equal(JSON.stringify(page.recentCalls).includes("from the console"), false, "arguments never reach the audit records");
  });

  it("a call that fails comes back as the gateway's error, and bad input is refused in place", async () => {
    const client = await signIn(d.url, d.key);
    const bad = await client.request("servers/percall/tools/remember/call", { method: "POST", body: { arguments: [1] } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, "BAD_ARGUMENTS");
    const unknown = await client.request("servers/percall/tools/nope/call", { method: "POST", body: { arguments: {} } });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, "NO_SUCH_TOOL");
    const timeout = await client.request("servers/slow/tools/wait-for-cancel/call", { method: "POST", body: { arguments: {} } });
    assert.equal(timeout.status, 200);
    assert.equal(timeout.body.ok, false);
    assert.match(timeout.body.error.message, /time/i);
  });
});

describe("web console settings", () => {
  it("a session unused for the idle time ends", async () => {
    const d = await startInProcessDaemon({ http: { console: { idleMs: 300 } } });
    try {
      const client = await signIn(d.url, d.key);
      assert.equal((await client.request("overview")).status, 200);
      await sleep(700);
      const expired = await client.request("overview");
      assert.equal(expired.status, 401);
      assert.equal(expired.body.error.code, "SESSION_EXPIRED");
    } finally {
      await d.close();
    }
  });

  it("the cookie is Secure behind a trusted TLS proxy, and only then", async () => {
    const trusting = await startInProcessDaemon({ http: { console: { trustProxy: true } } });
    const plain = await startInProcessDaemon();
    try {
      assert.match((await signIn(trusting.url, trusting.key, { "x-forwarded-proto": "https" })).setCookie, /; Secure$/);
      assert.doesNotMatch((await signIn(trusting.url, trusting.key)).setCookie, /Secure/);
      assert.doesNotMatch((await signIn(plain.url, plain.key, { "x-forwarded-proto": "https" })).setCookie, /Secure/, "an untrusted header does not decide");
    } finally {
      await trusting.close();
      await plain.close();
    }
  });

  it("with the console off, / and its API are not served", async () => {
    const d = await startInProcessDaemon({ http: { console: false } });
    try {
      const auth = { authorization: `Bearer ${d.key}` };
      assert.equal((await fetch(new URL("/", d.url), { headers: auth })).status, 404);
      assert.equal((await fetch(new URL("/api/console/session", d.url), { headers: auth })).status, 404);
      assert.equal((await fetch(new URL("/ui/app.js", d.url), { headers: auth })).status, 404);
      assert.equal(d.daemon.console, undefined);
    } finally {
      await d.close();
    }
  });

  it("with auth off (loopback), signing in needs no key", async () => {
    const d = await startInProcessDaemon({ http: { apiKeys: undefined } });
    try {
      const res = await fetch(new URL("/api/console/session", d.url), { method: "POST", headers: json, body: "{}" });
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { principal: string }).principal, "anonymous");
    } finally {
      await d.close();
    }
  });
});
