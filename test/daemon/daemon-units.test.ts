import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readyReporter, splitHint } from "../../src/daemon/ready-report.js";
import { formatLogLine, textDestination } from "../../src/daemon/text-log.js";
import type { ServerCondition, SyncStatus } from "../../src/sync/reconciler.js";

const condition = (prefix: string, reason: ServerCondition["reason"], message: string, hash = "h1"): ServerCondition => ({
  prefix, file: `servers/${prefix}.yaml`, serving: reason === "Applied", stale: false, reason, message, since: "2026-12-01T00:00:00Z", hash,
});
const status = (settled: boolean, servers: ServerCondition[]): SyncStatus => ({ source: "dir", ready: true, settled, reconciles: 1, failures: 0, servers });

describe("ready report (terminal)", () => {
  it("splits a launch message into what happened and what to do", () => {
    assert.deepEqual(splitHint("no Docker engine answers (ENGINE_UNAVAILABLE). Start Docker."), { what: "no Docker engine answers (ENGINE_UNAVAILABLE)", todo: "Start Docker." });
    assert.deepEqual(splitHint("servers/x.yaml:3:1 bad\nmore"), { what: "servers/x.yaml:3:1 bad" });
    assert.deepEqual(splitHint("registry/servers/github.yaml:21:9  packages[0]: needs the secret T\n    hint: Grant it in the store."), { what: "registry/servers/github.yaml:21:9  packages[0]: needs the secret T", todo: "Grant it in the store." });
    // The MCP error prefix goes; a hint after the build output that follows the first line is still found.
    assert.deepEqual(splitHint("MCP error -32014: building x failed: no such host\nlast build output:\nStep 1/2 : FROM y (PREPARE_FAILED). Pass BASE_IMAGE."), {
      what: "building x failed: no such host (PREPARE_FAILED)",
      todo: "Pass BASE_IMAGE.",
    });
  });

  it("prints one summary when settled, a line per failure with its fix, then only changes", () => {
    const lines: string[] = [];
    const report = readyReporter((l) => lines.push(l));
    const failed = condition("python_sandbox", "PrepareFailed", "base image cannot be pulled (PREPARE_FAILED). Pass MCP_ROUTER_BUILD_ARGS=BASE_IMAGE=<tag>.");
    report.observe(status(false, [condition("memory", "Applied", "serving memory 1")]));
    assert.deepEqual(lines, [], "nothing before the daemon settles");
    report.observe(status(true, [condition("memory", "Applied", "serving memory 1"), failed, condition("slow", "Preparing", "still preparing")]));
    assert.deepEqual(lines, [
      "ready: 1 live, 1 failed, 1 still preparing (run mcp-router status)",
      "  ✗ python_sandbox: PrepareFailed: base image cannot be pulled (PREPARE_FAILED)",
      "      → Pass MCP_ROUTER_BUILD_ARGS=BASE_IMAGE=<tag>.",
    ]);
    lines.length = 0;
    // The same failure again (a retry) is not repeated; a server going live is announced once.
    report.observe(status(true, [condition("memory", "Applied", "serving memory 1"), failed, condition("slow", "Applied", "serving slow 2")]));
    report.observe(status(true, [condition("memory", "Applied", "serving memory 1"), failed, condition("slow", "Applied", "serving slow 2")]));
    assert.deepEqual(lines, ["  ✓ slow is live (serving slow 2)"]);
  });
});

describe("text logs", () => {
  it("turns a pino JSON line into a readable one, keeping the fields", () => {
    const line = formatLogLine(JSON.stringify({ level: 40, time: Date.UTC(2026, 11, 1, 12, 4, 5), pid: 1, msg: "prepare failed", server: "github", err: "no such host" }));
    assert.match(line, /^\d\d:\d\d:\d\d WARN {2}prepare failed {2}server=github err="no such host"\n$/);
    assert.equal(formatLogLine("not json"), "not json");
  });

  it("formats every line of a chunk", () => {
    const out: string[] = [];
    textDestination({ write: (t) => out.push(t) }).write(`${JSON.stringify({ level: 30, msg: "a" })}\n${JSON.stringify({ level: 50, msg: "b" })}\n`);
    assert.equal(out.join(""), " INFO  a\n ERROR b\n");
  });
});
