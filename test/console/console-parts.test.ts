/** The console's parts on their own: sessions and their expiry, conditions and reload history, declared secrets, prefix routes. */
import { apiKeyPrincipal } from "../../src/auth/principal.js";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import pino from "pino";
import { ConsoleSessions, csrfMatches } from "../../src/console/console-sessions.js";
import { ReloadHistory, conditionOf } from "../../src/console/overview.js";
import { declaredSecrets } from "../../src/console/server-view.js";
import type { RegistryFile } from "../../src/registry/types.js";
import { staticSecretSource } from "../../src/secrets/secret-source.js";
import type { ServerCondition, SyncStatus } from "../../src/sync/reconciler.js";
import { startHttpGateway } from "../../src/transports/http-server.js";

describe("console sessions", () => {
  it("end after the idle time without use; use keeps them; peeking does not", () => {
    let now = 0;
    const sessions = new ConsoleSessions({ idleMs: 1000, now: () => now });
    const s = sessions.create(apiKeyPrincipal("abcd1234"));
    now = 900;
    assert.equal(sessions.touch(s.id), s);
    now = 1800;
    assert.equal(sessions.peek(s.id), s, "touched at 900: alive until 1900");
    now = 1900;
    assert.equal(sessions.peek(s.id), undefined);
    assert.equal(sessions.size, 0);
    sessions.close();
  });

  it("run what is attached to them when they end, and evict the least recently used past the limit", () => {
    let now = 0;
    const sessions = new ConsoleSessions({ idleMs: 10_000, maxSessions: 2, now: () => now });
    const a = sessions.create(apiKeyPrincipal("a"));
    const b = sessions.create(apiKeyPrincipal("b"));
    let ended = 0;
    sessions.onEnd(b.id, () => ended++);
    now = 1;
    sessions.touch(a.id);
    sessions.create(apiKeyPrincipal("c"));
    assert.equal(ended, 1, "b was the least recently used");
    assert.ok(sessions.peek(a.id));
    assert.equal(sessions.size, 2);
    sessions.close();
  });

  it("match only their own CSRF token", () => {
    const sessions = new ConsoleSessions({ idleMs: 1000 });
    const a = sessions.create(apiKeyPrincipal("a"));
    const b = sessions.create(apiKeyPrincipal("b"));
    assert.equal(csrfMatches(a, a.csrfToken), true);
    assert.equal(csrfMatches(a, b.csrfToken), false);
    assert.equal(csrfMatches(a, undefined), false);
    assert.equal(csrfMatches(a, ""), false);
    sessions.close();
  });
});

const condition = (prefix: string, over: Partial<ServerCondition> = {}): ServerCondition => ({
  prefix,
  file: `servers/${prefix}.yaml`,
  serving: true,
  stale: false,
  reason: "Applied",
  message: "",
  hash: "h1",
  since: "t",
  ...over,
});

const status = (at: string, servers: ServerCondition[], over: Partial<SyncStatus> = {}): SyncStatus => ({
  source: "directory x",
  ready: true,
  settled: true,
  lastAttemptAt: at,
  lastAttemptedRevision: `rev-${at}`,
  reconciles: 1,
  failures: 0,
  servers,
  ...over,
});

describe("overview", () => {
  it("names each condition: live, preparing, failed, stale but serving, disabled", () => {
    assert.equal(conditionOf(condition("a")), "live");
    assert.equal(conditionOf(condition("a", { serving: false, reason: "Preparing" })), "preparing");
    assert.equal(conditionOf(condition("a", { serving: false, reason: "PrepareFailed" })), "failed");
    assert.equal(conditionOf(condition("a", { serving: false, reason: "ValidationFailed" })), "failed");
    assert.equal(conditionOf(condition("a", { stale: true, reason: "ValidationFailed" })), "stale");
    assert.equal(conditionOf(condition("a", { serving: false, reason: "Disabled" })), "disabled");
  });

  it("keeps the reloads that changed something, newest first, and skips polls that found nothing", () => {
    const history = new ReloadHistory(3);
    history.observe(status("1", [condition("a")]));
    history.observe(status("2", [condition("a"), condition("b")]));
    history.observe(status("3", [condition("a"), condition("b")], { lastAttemptedRevision: "rev-2" }));
    history.observe(status("4", [condition("a", { hash: "h2", stale: true, reason: "ValidationFailed" })], { lastAttemptedRevision: "rev-4" }));
    assert.deepEqual(
      history.reloads.map((r) => [r.at, r.ok, r.changes]),
      [
        ["4", false, [{ prefix: "a", change: "updated", from: "live", to: "stale" }, { prefix: "b", change: "removed" }]],
        ["2", true, [{ prefix: "b", change: "added", to: "live" }]],
        ["1", true, [{ prefix: "a", change: "added", to: "live" }]],
      ],
    );
  });

  it("records a revision that could not be read, with its error", () => {
    const history = new ReloadHistory();
    history.observe(status("5", [condition("a")], { lastError: { reason: "FetchFailed", message: "git fetch failed", at: "5" } }));
    assert.equal(history.reloads[0]?.ok, false);
    assert.equal(history.reloads[0]?.error, "git fetch failed");
  });
});

describe("declared secrets", () => {
  it("lists each name the file reads once, whether the store has it (under its name or alias), never a value", () => {
    const entry: RegistryFile = {
      name: "dev.test/s",
      description: "d",
      version: "1.0.0",
      packages: [
        {
          registryType: "npm",
          identifier: "x",
          version: "1.0.0",
          transport: { type: "streamable-http", url: "http://localhost:1/mcp", headers: [{ name: "X-API-Key", isSecret: true, isRequired: true, description: "the key" }] },
          environmentVariables: [
            { name: "TOKEN", isSecret: true, isRequired: true, description: "a token" },
            { name: "REGION", description: "where" },
            { name: "FIXED", value: "v" },
          ],
        },
      ],
    };
    const secrets = declaredSecrets(entry, staticSecretSource({ TOKEN: "s3cret", X_API_KEY: "k" }));
    assert.deepEqual(secrets, [
      { name: "TOKEN", secret: true, required: true, description: "a token", set: true },
      { name: "REGION", secret: false, required: false, description: "where", set: false },
      { name: "X-API-Key", secret: true, required: true, description: "the key", set: true },
    ]);
    assert.equal(JSON.stringify(secrets).includes("s3cret"), false);
  });
});

describe("prefix routes on the HTTP server", () => {
  it("refuse a prefix that would take over a gateway endpoint, naming it", async () => {
    for (const [prefix, taken] of [
      ["/mcp/", "/mcp"],
      ["/servers/x/", "/servers"],
      ["/", undefined],
    ] as const) {
      await assert.rejects(
        startHttpGateway({ gateway: {} as never, logger: pino({ level: "silent" }), host: "127.0.0.1", port: 0, apiKeys: ["k".repeat(16)], prefixRoutes: [{ prefix, handle: () => undefined }] }),
        (error: Error & { code?: string }) => error.code === "BAD_PREFIX_ROUTE" && (!taken || error.message.includes(taken)),
      );
    }
  });
});
