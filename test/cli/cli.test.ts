/**
 * The command tree in-process (runCli with a CliContext of our own streams): no child process, so
 * these run in milliseconds. The spawned CLI is still exercised where it matters (stdio, the
 * reliability suite's `serve`).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatStatus } from "../../src/cli/format-status.js";
import { runCli } from "../../src/cli/program.js";
import type { SyncStatus } from "../../src/sync/reconciler.js";
import { VERSION } from "../../src/version.js";
import { testCliContext } from "../support/cli.js";

const context = (env: Record<string, string> = {}) => testCliContext({ env });

describe("CLI in-process", () => {
  it("--version prints the package version", async () => {
    const ctx = context();
    assert.equal(await runCli(["--version"], ctx), 0);
    assert.equal(ctx.out().trim(), VERSION);
  });

  it("validate checks the bundled registry", async () => {
    const ctx = context();
    await runCli(["validate"], ctx);
    assert.match(ctx.out(), /✓ \d+ server files valid in registry\/servers/);
  });

  it("an unknown command is an error with help, exit 1", async () => {
    const ctx = context();
    assert.equal(await runCli(["nope"], ctx), 1);
    assert.match(ctx.err(), /unknown command 'nope'/);
  });

  it("status without a daemon says how to start one", async () => {
    const ctx = context({ MCP_ROUTER_API_KEYS: "k".repeat(20) });
    assert.equal(await runCli(["status", "--url", "http://127.0.0.1:9/"], ctx), 1);
    assert.match(ctx.err(), /no daemon answers at http:\/\/127\.0\.0\.1:9\/[\s\S]*hint: Start it with `mcp-router serve`/);
  });

  it("status tells serving-while-preparing apart from ready", () => {
    const base: SyncStatus = { source: "dir", ready: true, settled: false, reconciles: 1, failures: 0, servers: [{ prefix: "slow", file: "servers/slow.yaml", serving: false, stale: false, reason: "Preparing", message: "still preparing", since: new Date().toISOString() }] };
    assert.match(formatStatus(base), /^ready {6}serving; 1 server\(s\) still on their first prepare$/m);
    assert.match(formatStatus({ ...base, settled: true }), /^ready {6}yes$/m);
    assert.match(formatStatus({ ...base, ready: false }), /^ready {6}no \(no table applied yet\)$/m);
  });
});
