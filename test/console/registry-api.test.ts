/**
 * The registry as the Generic Registry API (`/v0.1/`), read-only, against a real daemon: list with
 * cursor pagination and search, a server's versions, one version (and `latest`), errors in the
 * API's shape, and the gateway's auth (bearer key or console session).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { compareVersions } from "../../src/console/registry-api.js";
import { signIn } from "../support/console-client.js";
import type { Json } from "../support/console-client.js";
import type { InProcessDaemon } from "../support/in-process-daemon.js";
import { startInProcessDaemon } from "../support/in-process-daemon.js";

describe("registry API (/v0.1)", () => {
  let d: InProcessDaemon;
  let get: (path: string, headers?: Record<string, string>) => Promise<{ status: number; body: Json }>;
  before(async () => {
    d = await startInProcessDaemon();
    get = async (path, headers = { authorization: `Bearer ${d.key}` }) => {
      const res = await fetch(new URL(path, d.url), { headers });
      return { status: res.status, body: await res.json() };
    };
  });
  after(() => d.close());

  it("lists every served server as server.json with the registry's metadata", async () => {
    const { status, body } = await get("/v0.1/servers");
    assert.equal(status, 200);
    assert.deepEqual(
      body.servers.map((s: Json) => s.server.name),
      ["dev.mcp-router.test/percall", "dev.mcp-router.test/persession", "dev.mcp-router.test/slow"],
    );
    assert.equal(body.metadata.count, 3);
    assert.equal(body.metadata.nextCursor, undefined);
    const first = body.servers[0];
    assert.equal(first.server.version, "1.0.0");
    assert.equal(first.server.router, undefined, "the router: block is ours, not server.json's");
    assert.match(first.server.$schema, /^https:\/\/static\.modelcontextprotocol\.io\/schemas\//);
    const official = first._meta["io.modelcontextprotocol.registry/official"];
    assert.equal(official.status, "active");
    assert.equal(official.isLatest, true);
    assert.ok(!Number.isNaN(Date.parse(official.updatedAt)));
    assert.deepEqual(first._meta["dev.mcp-router/gateway"], { prefix: "percall", endpoint: "/servers/percall/mcp" });
  });

  it("pages with an opaque cursor until there is none, and searches by name", async () => {
    const names: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 5; page++) {
      const { body } = await get(`/v0.1/servers?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      names.push(...body.servers.map((s: Json) => s.server.name));
      cursor = body.metadata.nextCursor;
      if (!cursor) break;
    }
    assert.deepEqual(names, ["dev.mcp-router.test/percall", "dev.mcp-router.test/persession", "dev.mcp-router.test/slow"]);
    const found = await get("/v0.1/servers?search=PERSESS");
    assert.deepEqual(found.body.servers.map((s: Json) => s.server.name), ["dev.mcp-router.test/persession"]);
    assert.equal((await get("/v0.1/servers?search=nothing-like-this")).body.servers.length, 0);
    assert.equal((await get("/v0.1/servers?version=latest")).body.servers.length, 3);
    assert.equal((await get("/v0.1/servers?version=9.9.9")).body.servers.length, 0);
    assert.equal((await get("/v0.1/servers?updated_since=2999-01-01T00:00:00Z")).body.servers.length, 0);
  });

  it("a server's versions, one version, and latest, with the name URL-encoded", async () => {
    const name = encodeURIComponent("dev.mcp-router.test/slow");
    const versions = await get(`/v0.1/servers/${name}/versions`);
    assert.equal(versions.status, 200);
    assert.deepEqual(versions.body.servers.map((s: Json) => s.server.version), ["1.0.0"]);
    const one = await get(`/v0.1/servers/${name}/versions/1.0.0`);
    assert.equal(one.status, 200);
    assert.equal(one.body.server.name, "dev.mcp-router.test/slow");
    assert.deepEqual((await get(`/v0.1/servers/${name}/versions/latest`)).body, one.body);
  });

  it("answers errors in the API's shape, saying what to do", async () => {
    const unknown = await get(`/v0.1/servers/${encodeURIComponent("com.example/none")}/versions`);
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.error, /^Server not found/);
    const version = await get(`/v0.1/servers/${encodeURIComponent("dev.mcp-router.test/slow")}/versions/2.0.0`);
    assert.equal(version.status, 404);
    assert.match(version.body.error, /has 1\.0\.0/);
    assert.equal((await get("/v0.1/servers?limit=zero")).status, 400);
    const cursor = await get("/v0.1/servers?cursor=not-ours");
    assert.equal(cursor.status, 400);
    assert.match(cursor.body.error, /nextCursor/);
    const write = await fetch(new URL("/v0.1/servers", d.url), { method: "POST", headers: { authorization: `Bearer ${d.key}`, "content-type": "application/json" }, body: "{}" });
    assert.equal(write.status, 405);
    assert.match(((await write.json()) as { error: string }).error, /read-only.*pull request/);
  });

  it("is behind the gateway's auth: the bearer key or a console session", async () => {
    const none = await get("/v0.1/servers", {});
    assert.equal(none.status, 401);
    assert.match(none.body.error, /missing bearer token/);
    assert.equal((await get("/v0.1/servers", { authorization: "Bearer wrong-key-0123456789" })).status, 401);
    const client = await signIn(d.url, d.key);
    assert.equal((await get("/v0.1/servers", { cookie: client.cookie })).status, 200);
  });
});

describe("version order", () => {
  it("compares semantic versions by number, a pre-release below its release, others as text", () => {
    const sorted = ["1.10.0", "1.2.0", "1.2.0-rc.1", "1.2.0-rc.10", "1.2.0-rc.2", "0.9.1"].sort(compareVersions);
    assert.deepEqual(sorted, ["0.9.1", "1.2.0-rc.1", "1.2.0-rc.2", "1.2.0-rc.10", "1.2.0", "1.10.0"]);
    assert.ok(compareVersions("2025.1", "2025.2") < 0);
  });
});
