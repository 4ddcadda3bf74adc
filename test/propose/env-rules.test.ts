/**
 * The env model's rules of issue 18, round 4: each with a small, real-looking input and the verdict
 * it must reach (mode, required or not, proposed or not).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EnvCollector, envFromReadme, envFromServerJson } from "../../src/propose/env-findings.js";
import type { EvidenceFile } from "../../src/propose/evidence.js";

const file = (kind: EvidenceFile["kind"], path: string, text: string): EvidenceFile => ({ kind, path, url: path, text, truncated: false });

function readmeFindings(lines: string[]) {
  const env = new EnvCollector();
  envFromReadme(file("readme", "README.md", lines.join("\n")), env);
  return new Map(env.findings().map((f) => [f.name, f]));
}

describe("modes from a single README line", () => {
  it("does not take a feature's words (server-side, debug, tests) for a mode; a transport named on the line is one", () => {
    const by = readmeFindings([
      "## Configuration",
      "| Variable | Default | Description |",
      "| --- | --- | --- |",
      "| `SVC_DISABLE_SERVER_SIDE_JS` | `false` | Disallows server-side JavaScript operators |",
      "| `SVC_DEBUG_ENABLED` | `false` | Enables debug logging, useful for troubleshooting |",
      "| `SVC_BODY_LIMIT` | `102400` | Maximum request body (only used when transport is `'http'`) |",
      "| `SVC_NOTIFY_MS` | `540000` | Notification timeout (only applies to http transport) |",
      "- **File** (requires `SVC_OUTPUT_DIR` env var): writes flaky test details to a directory",
      "- (Optional) `SVC_SKIP_VERIFY`: skip TLS verification. Only use this for development or testing environments.",
    ]);
    for (const n of ["SVC_DISABLE_SERVER_SIDE_JS", "SVC_DEBUG_ENABLED", "SVC_OUTPUT_DIR", "SVC_SKIP_VERIFY"]) assert.equal(by.get(n)?.mode, "default", n);
    assert.equal(by.get("SVC_BODY_LIMIT")?.mode, "http");
    assert.equal(by.get("SVC_NOTIFY_MS")?.mode, "http");
  });

  it("reads a server.json description the same way", () => {
    const env = new EnvCollector();
    const sj = file("server.json", "server.json", '{ "name": "SVC_DISABLE_SERVER_SIDE_JS" }\n{ "name": "SVC_NOTIFY_MS" }');
    envFromServerJson(sj, [
      { name: "SVC_DISABLE_SERVER_SIDE_JS", description: "When set to true, disallows server-side JavaScript operators in query filters." },
      { name: "SVC_NOTIFY_MS", description: "Notification timeout for a client to be aware of disconnect (only applies to http transport)." },
    ], env);
    const by = new Map(env.findings().map((f) => [f.name, f]));
    assert.equal(by.get("SVC_DISABLE_SERVER_SIDE_JS")?.mode, "default");
    assert.equal(by.get("SVC_NOTIFY_MS")?.mode, "http");
  });
});
