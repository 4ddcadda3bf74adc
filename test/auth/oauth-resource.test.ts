/**
 * The gateway as an OAuth 2.1 protected resource, against a real OpenID provider (`oidc-provider`)
 * started in the test: Protected Resource Metadata (RFC 9728) for /mcp and each per-server
 * endpoint, 401s whose `WWW-Authenticate` points at it, tokens issued for the gateway accepted in
 * both eras, tokens with the wrong audience, expired, tampered or from another issuer refused with
 * `error="invalid_token"`, a token without the required scope refused with 403 `insufficient_scope`,
 * API keys working beside tokens, a session usable only by the principal that opened it, and the
 * principal on the audit line.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { discoveryUrls } from "../../src/auth/issuer-discovery.js";
import { OAuthTokenVerifier } from "../../src/auth/oauth-token-verifier.js";
import { oauthConfig } from "../../src/cli/serve-commands.js";
import type { InProcessDaemon } from "../support/in-process-daemon.js";
import { startInProcessDaemon } from "../support/in-process-daemon.js";
import { modernRequest, openSession } from "../support/mcp-raw.js";
import type { TestIssuer } from "../support/oidc-issuer.js";
import { startTestIssuer } from "../support/oidc-issuer.js";

describe("issuer discovery URLs", () => {
  it("tries RFC 8414 then OpenID Connect, the path inserted after the well-known prefix, then appended", () => {
    assert.deepEqual(discoveryUrls("https://auth.example.com").map(String), [
      "https://auth.example.com/.well-known/oauth-authorization-server",
      "https://auth.example.com/.well-known/openid-configuration",
    ]);
    assert.deepEqual(discoveryUrls("https://auth.example.com/tenant/1").map(String), [
      "https://auth.example.com/.well-known/oauth-authorization-server/tenant/1",
      "https://auth.example.com/.well-known/openid-configuration/tenant/1",
      "https://auth.example.com/tenant/1/.well-known/openid-configuration",
    ]);
  });
});

describe("the gateway as an OAuth protected resource", () => {
  let issuer: TestIssuer;
  let foreign: TestIssuer;
  let d: InProcessDaemon;
  let dir: string;
  let base: string;
  let alice: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "mcp-router-oauth-"));
    issuer = await startTestIssuer([{ id: "alice", groups: ["eng"] }, { id: "bob" }]);
    foreign = await startTestIssuer([{ id: "alice" }]);
    d = await startInProcessDaemon({ http: { oauth: { issuer: issuer.issuer, requiredScopes: ["mcp"] } }, audit: { target: join(dir, "audit.log") } });
    base = d.url.href.replace(/\/$/, "");
    alice = await issuer.token("alice", `${base}/mcp`);
  });
  after(async () => {
    await d.close();
    await issuer.close();
    await foreign.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("serves Protected Resource Metadata for the gateway, /mcp and each per-server endpoint, without a bearer", async () => {
    for (const path of ["", "/mcp", "/servers/percall/mcp"]) {
      const res = await fetch(`${base}/.well-known/oauth-protected-resource${path}`);
      assert.equal(res.status, 200, path);
      assert.deepEqual(await res.json(), { resource: `${base}${path}`, authorization_servers: [issuer.issuer], bearer_methods_supported: ["header"], scopes_supported: ["mcp"], resource_name: "mcp-router" });
    }
    assert.equal((await fetch(`${base}/.well-known/oauth-protected-resource/status`)).status, 401, "not an MCP endpoint: no metadata of its own");
  });

  it("answers a request without a bearer with 401 and the endpoint's resource_metadata (no error: nothing was presented)", async () => {
    for (const path of ["/mcp", "/servers/percall/mcp"]) {
      const res = await modernRequest(d.url, path, undefined, "tools/list");
      assert.equal(res.status, 401);
      assert.equal(res.wwwAuthenticate, `Bearer resource_metadata="${base}/.well-known/oauth-protected-resource${path}", scope="mcp"`);
    }
  });

  it("serves a token issued for /mcp in both eras, on /mcp and on a per-server endpoint", async () => {
    const listed = await modernRequest(d.url, "/mcp", alice, "tools/list");
    assert.equal(listed.status, 200);
    assert.ok(listed.body.result?.tools?.some((t) => t.name === "percall__whoami"));
    const session = await openSession(d.url, "/servers/percall/mcp", alice);
    const called = await session.request("tools/call", { name: "whoami", arguments: {} });
    assert.equal(called.status, 200);
    assert.equal(called.body.error, undefined);
    await session.close();
  });

  it("accepts a token for one per-server endpoint there, and refuses it at another server's endpoint", async () => {
    const token = await issuer.token("alice", `${base}/servers/percall/mcp`);
    assert.equal((await modernRequest(d.url, "/servers/percall/mcp", token, "tools/list")).status, 200);
    const elsewhere = await modernRequest(d.url, "/servers/persession/mcp", token, "tools/list");
    assert.equal(elsewhere.status, 401);
    assert.match(elsewhere.wwwAuthenticate ?? "", /error="invalid_token", error_description="the access token was not issued for this gateway \(audience\)/);
  });

  const refusals: [string, () => Promise<string>, RegExp][] = [
    ["for another resource (audience)", () => issuer.token("alice", "https://other.example.com/mcp"), /not issued for this gateway/],
    ["expired", () => issuer.mint({ iss: issuer.issuer, sub: "alice", aud: `${base}/mcp`, scope: "mcp", iat: Math.floor(Date.now() / 1000) - 600, exp: Math.floor(Date.now() / 1000) - 120 }), /expired/],
    [
      "tampered with (a claim changed after signing)",
      async () => {
        const [header, payload, signature] = alice.split(".") as [string, string, string];
        const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown>;
        return `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: "admin" })).toString("base64url")}.${signature}`;
      },
      /signature does not verify/,
    ],
    ["from another issuer", () => foreign.token("alice", `${base}/mcp`), /not signed by a key of the trusted issuer/],
    ["from another issuer, signed with the trusted key", () => issuer.mint({ iss: foreign.issuer, sub: "alice", aud: `${base}/mcp`, scope: "mcp", exp: Math.floor(Date.now() / 1000) + 600 }), /another issuer/],
    ["not a JWT and not an API key", async () => "opaque-token-0123456789", /neither an API key nor a JWT/],
  ];
  for (const [what, make, reason] of refusals) {
    it(`refuses a token ${what} with 401 invalid_token, in both eras`, async () => {
      const token = await make();
      const modern = await modernRequest(d.url, "/mcp", token, "tools/list");
      assert.equal(modern.status, 401);
      assert.match(modern.wwwAuthenticate ?? "", new RegExp(`^Bearer resource_metadata="${base}/.well-known/oauth-protected-resource/mcp", scope="mcp", error="invalid_token", error_description="`));
      assert.match(modern.wwwAuthenticate ?? "", reason);
      await assert.rejects(openSession(d.url, "/mcp", token), (error: Error & { reply?: { status: number } }) => error.reply?.status === 401);
    });
  }

  it("refuses a valid token without the required scope with 403 insufficient_scope naming it", async () => {
    const token = await issuer.token("alice", `${base}/mcp`, "extra");
    const res = await modernRequest(d.url, "/mcp", token, "tools/list");
    assert.equal(res.status, 403);
    assert.match(res.wwwAuthenticate ?? "", /scope="mcp", error="insufficient_scope", error_description="the access token lacks the scope\(s\) mcp/);
  });

  it("keeps accepting API keys beside tokens", async () => {
    assert.equal((await modernRequest(d.url, "/mcp", d.key, "tools/list")).status, 200);
    assert.equal((await modernRequest(d.url, "/mcp", "not-the-key-0123456789", "tools/list")).status, 401);
  });

  it("lets only the principal that opened a session use it", async () => {
    const session = await openSession(d.url, "/mcp", alice);
    const bob = await issuer.token("bob", `${base}/mcp`);
    const stolen = await session.request("tools/list", {}, bob);
    assert.equal(stolen.status, 403);
    assert.match(stolen.body.error?.message ?? "", /opened by another principal/);
    assert.equal((await session.request("tools/list", {}, d.key)).status, 403, "an API key is another principal too");
    assert.equal((await session.request("tools/list")).status, 200);
    await session.close();
  });

  it("lets only the principal that opened a legacy SSE session post to it", async () => {
    const controller = new AbortController();
    const stream = await fetch(`${base}/sse`, { headers: { authorization: `Bearer ${alice}`, accept: "text/event-stream" }, signal: controller.signal });
    assert.equal(stream.status, 200);
    const reader = stream.body!.getReader();
    let text = "";
    while (!/sessionId=/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    const endpoint = /data: (\S+)/.exec(text)?.[1] ?? "";
    const post = (token: string) =>
      fetch(new URL(endpoint, base), { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }) });
    assert.equal((await post(d.key)).status, 403);
    assert.equal((await post(alice)).status, 202);
    controller.abort();
  });

  it("names the principal on the audit line: the token's subject, or the key's id", async () => {
    await modernRequest(d.url, "/mcp", alice, "tools/call", { name: "percall__whoami", arguments: {} });
    await modernRequest(d.url, "/mcp", d.key, "tools/call", { name: "percall__whoami", arguments: {} });
    await d.daemon.close();
    const lines = (await readFile(join(dir, "audit.log"), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { principal: string; key: string; tool: string });
    assert.ok(lines.some((l) => l.principal === "oauth:alice" && l.key === "oauth" && l.tool === "whoami"));
    assert.ok(lines.some((l) => /^key:[0-9a-f]{8}$/.test(l.principal) && l.principal === `key:${l.key}`));
  });
});

describe("token verification", () => {
  it("refuses to check tokens while the issuer's metadata cannot be read (503, tried again on the next token)", async () => {
    const verifier = new OAuthTokenVerifier({ issuer: "http://127.0.0.1:9" });
    await assert.rejects(verifier.verify("a.b.c", ["http://x"]), (error: Error & { status?: number }) => error.status === 503 && /no authorization server metadata/.test(error.message));
  });
});

describe("the OAuth flags", () => {
  const flags = { host: "127.0.0.1", auth: true, oauthGroupsClaim: "groups" };
  it("are off without an issuer, and read the MCP_ROUTER_OAUTH_* environment", () => {
    assert.equal(oauthConfig(flags, {}), undefined);
    assert.deepEqual(oauthConfig(flags, { MCP_ROUTER_OAUTH_ISSUER: "https://auth.example.com", MCP_ROUTER_OAUTH_SCOPES: "mcp,tools" }), {
      issuer: "https://auth.example.com",
      groupsClaim: "groups",
      requiredScopes: ["mcp", "tools"],
    });
  });
  it("refuse plain http to a non-loopback issuer, a public bind without --public-url, and --no-auth", () => {
    assert.throws(() => oauthConfig({ ...flags, oauthIssuer: "http://auth.example.com" }, {}), /is not https/);
    assert.throws(() => oauthConfig({ ...flags, host: "0.0.0.0", oauthIssuer: "https://auth.example.com" }, {}), /needs --public-url/);
    assert.throws(() => oauthConfig({ ...flags, auth: false, oauthIssuer: "https://auth.example.com" }, {}), /contradict/);
    assert.deepEqual(oauthConfig({ ...flags, host: "0.0.0.0", oauthIssuer: "https://auth.example.com", publicUrl: "https://mcp.example.com" }, {})?.publicUrl, "https://mcp.example.com");
  });
});
