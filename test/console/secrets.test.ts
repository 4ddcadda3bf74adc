/**
 * The console's secrets: write-only values in the daemon's own store (mode 0600 files in a 0700
 * folder of the data dir), only for names a registry file declares; a server waiting for a secret
 * goes live once it is set; a value never comes back out of any console answer.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { SecretStoreError } from "../../src/secrets/console-secret-store.js";
import { openConsoleSecretStore } from "../../src/secrets/console-secret-store.js";
import type { ConsoleClient, Json } from "../support/console-client.js";
import { openEvents, signIn } from "../support/console-client.js";
import type { InProcessDaemon } from "../support/in-process-daemon.js";
import { startInProcessDaemon } from "../support/in-process-daemon.js";
import { probePackage } from "../support/in-process-servers.js";
import { testServer, writeRegistry } from "../support/servers.js";

const VALUE = "s3cret-value-that-must-never-come-back";

describe("console secrets", () => {
  let d: InProcessDaemon;
  let client: ConsoleClient;
  before(async () => {
    d = await startInProcessDaemon();
    client = await signIn(d.url, d.key);
    await writeRegistry(d.registryDir, [testServer("needs-token", { ...probePackage(), environmentVariables: [{ name: "NOTES_TOKEN", isSecret: true, isRequired: true, description: "the notes token" }] })]);
    const events = await openEvents(d.url, client.cookie);
    await events.next((o) => o.servers.some((s: Json) => s.prefix === "needs-token" && s.condition === "failed"));
    events.close();
  });
  after(() => d.close());

  it("lists every declared name with the servers that read it, set or missing", async () => {
    const { body } = await client.request("secrets");
    assert.equal(body.writable, true);
    assert.deepEqual(body.secrets, [{ name: "NOTES_TOKEN", servers: ["needs-token"], secret: true, required: true, description: "the notes token", set: false }]);
  });

  it("refuses a value without the CSRF token, for an undeclared name, for a reserved name, or empty", async () => {
    const noToken = await client.request("secrets/NOTES_TOKEN", { method: "PUT", body: { value: VALUE }, csrf: false });
    assert.equal(noToken.status, 403);
    const undeclared = await client.request("secrets/SOMETHING_ELSE", { method: "PUT", body: { value: VALUE } });
    assert.equal(undeclared.status, 404);
    assert.equal(undeclared.body.error.code, "SECRET_NOT_DECLARED");
    const reserved = await client.request("secrets/MCP_ROUTER_API_KEYS", { method: "PUT", body: { value: VALUE } });
    assert.equal(reserved.status, 404, "no file may declare the daemon's own names");
    const empty = await client.request("secrets/NOTES_TOKEN", { method: "PUT", body: { value: "" } });
    assert.equal(empty.status, 400);
    assert.equal(empty.body.error.code, "SECRET_EMPTY");
    const missing = await client.request("secrets/NOTES_TOKEN", { method: "PUT", body: {} });
    assert.equal(missing.status, 400);
    assert.equal((await client.request("secrets")).body.secrets[0].set, false);
  });

  it("a value set here is stored 0600 in the data dir, and the server waiting for it goes live", async () => {
    const events = await openEvents(d.url, client.cookie);
    try {
      const set = await client.request("secrets/NOTES_TOKEN", { method: "PUT", body: { value: VALUE } });
      assert.equal(set.status, 200);
      assert.deepEqual(set.body, { name: "NOTES_TOKEN", set: true, source: "console" });
      await events.next((o) => o.servers.some((s: Json) => s.prefix === "needs-token" && s.condition === "live"));
    } finally {
      events.close();
    }
    const folder = join(d.registryDir, "..", "data", "console-secrets");
    assert.equal((await stat(folder)).mode & 0o777, 0o700);
    assert.equal((await stat(join(folder, "NOTES_TOKEN"))).mode & 0o777, 0o600);
    assert.equal(await readFile(join(folder, "NOTES_TOKEN"), "utf8"), VALUE);
    const call = await client.request("servers/needs-token/tools/whoami/call", { method: "POST", body: { arguments: {} } });
    assert.equal(call.body.ok, true);
    // The daemon now knows the value: a result that echoes it reaches the client scrubbed.
    const echoed = await client.request("servers/percall/tools/remember/call", { method: "POST", body: { arguments: { note: VALUE } } });
    assert.equal(echoed.body.ok, true);
    assert.equal(JSON.stringify(echoed.body).includes(VALUE), false, JSON.stringify(echoed.body));
    const answers = await Promise.all(["secrets", "overview", "servers/needs-token", "session"].map((p) => client.request(p)));
    for (const answer of answers) assert.equal(JSON.stringify(answer.body).includes(VALUE), false, "a value never comes back out");
    assert.deepEqual((await client.request("secrets")).body.secrets[0], { name: "NOTES_TOKEN", servers: ["needs-token"], secret: true, required: true, description: "the notes token", set: true, source: "console" });
  });

  it("removes a value it holds; a value it does not hold is the operator's to change", async () => {
    const removed = await client.request("secrets/NOTES_TOKEN", { method: "DELETE" });
    assert.equal(removed.status, 200);
    assert.deepEqual(removed.body, { name: "NOTES_TOKEN", set: false });
    const again = await client.request("secrets/NOTES_TOKEN", { method: "DELETE" });
    assert.equal(again.status, 404);
    assert.equal(again.body.error.code, "SECRET_NOT_IN_CONSOLE_STORE");
    assert.equal((await client.request("secrets")).body.secrets[0].set, false);
  });
});

describe("console secret store", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "mcp-router-console-store-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("keeps values across restarts, replaces atomically, refuses names it must not hold", async () => {
    const folder = join(dir, "store");
    const store = openConsoleSecretStore(folder);
    await store.set("API_TOKEN", "one");
    await store.set("API_TOKEN", "two");
    await store.set("X-API-Key", "header value");
    const reopened = openConsoleSecretStore(folder);
    assert.equal(reopened.get("API_TOKEN"), "two");
    assert.equal(reopened.get("X-API-Key"), "header value");
    for (const [name, code] of [
      ["MCP_ROUTER_WEBHOOK_SECRET", "SECRET_NAME_RESERVED"],
      ["../escape", "SECRET_NAME_INVALID"],
      [".hidden", "SECRET_NAME_INVALID"],
    ] as const) {
      await assert.rejects(store.set(name, "x"), (error: SecretStoreError) => error.code === code);
    }
    await assert.rejects(store.set("BIG", "x".repeat(64 * 1024 + 1)), (error: SecretStoreError) => error.code === "SECRET_TOO_LARGE");
    assert.equal(await store.remove("API_TOKEN"), true);
    assert.equal(openConsoleSecretStore(folder).get("API_TOKEN"), undefined);
  });
});
