/**
 * Operations: Prometheus metrics at /metrics, the audit log (file with rotation, stdout), and
 * logs scrubbed of secret values. The integration part runs the daemon as `serve` assembles it
 * (startDaemon: a watched registry directory, the reconciler, the gateway, Streamable HTTP) on a
 * DockerLauncher with the audit log on, driven by the SDK's client.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import Docker from "dockerode";
import { pino } from "pino";
import type { Logger } from "pino";
import type { Daemon } from "../../src/daemon/start-daemon.js";
import { startDaemon } from "../../src/daemon/start-daemon.js";
import type { AuditRecord } from "../../src/observe/audit-log.js";
import { openAuditLog } from "../../src/observe/audit-log.js";
import { GatewayMetrics } from "../../src/observe/metrics.js";
import { declaredSecretNames, KnownSecrets, scrubbingDestination, secretScrubber } from "../../src/secrets/secret-scrubber.js";
import { DockerLauncher } from "../../src/launch/docker/docker-launcher.js";
import { staticSecretSource } from "../../src/secrets/secret-source.js";
import type { RegistrySync } from "../../src/sync/registry-sync.js";
import type { HttpGateway } from "../../src/transports/http-server.js";
import { describeWhen, dockerAvailable, ensureTestImages, listOurContainers, testDataDir } from "../support/docker.js";
import { installedVersion, npmPackage, testServer } from "../support/servers.js";
import { text, waitFor } from "./fixture.js";

const OWNER = "test-gateway-operations";
const KEY = "test-key-operations-0123456789";
const SECRET = "planted-secret-value-7f3a9c";
const ARG_MARK = "distinctive-argument-4b1e2d";
const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const hasDocker = await dockerAvailable();
if (!hasDocker && process.env.CI) throw new Error("Docker engine unavailable under CI: run .ci/docker-up.sh before the tests");

function record(n: number, extra: Partial<AuditRecord> = {}): AuditRecord {
  return {
    time: new Date(1_700_000_000_000 + n).toISOString(),
    key: "abcd1234",
    principal: "key:abcd1234",
    session: "0d3c1b2a-0000-4000-8000-000000000000",
    call: `0d3c1b2a.${n}`,
    method: "tools/call",
    server: "everything",
    tool: "echo",
    revision: "dir-0123456789ab",
    container: "0123456789ab",
    durationMs: 12.3,
    outcome: "ok",
    ...extra,
  };
}

/** Collects what a pino logger writes. */
function memoryDestination(): { write(line: string): void; lines: string[] } {
  const lines: string[] = [];
  return { lines, write: (line) => void lines.push(line) };
}

describe("audit log", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "mcp-router-audit-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("rotates at the size limit and keeps N files, every line whole and in order", async () => {
    const file = path.join(dir, "logs", "audit.jsonl");
    const audit = await openAuditLog({ target: file, maxBytes: 1024, keep: 2 });
    const lineBytes = JSON.stringify(record(0)).length + 1;
    const total = 40; // ~ 40 * 270 bytes: several rotations at 1 KiB
    for (let i = 0; i < total; i++) {
      audit.record(record(i));
      if (i % 7 === 0) await new Promise((r) => setImmediate(r)); // some batches, some single lines
    }
    await audit.close();
    const names = (await readdir(path.dirname(file))).sort();
    assert.deepEqual(names, ["audit.jsonl", "audit.jsonl.1", "audit.jsonl.2"], "the current file and 2 rotated ones, no more");
    const calls: number[] = [];
    for (const name of ["audit.jsonl.2", "audit.jsonl.1", "audit.jsonl"]) {
      const body = await readFile(path.join(dir, "logs", name), "utf8");
      assert.ok(Buffer.byteLength(body) <= 1024, `${name} is ${Buffer.byteLength(body)} bytes`);
      assert.ok(body.endsWith("\n"));
      for (const line of body.trimEnd().split("\n")) calls.push(Number((JSON.parse(line) as AuditRecord).call.split(".")[1]));
    }
    const perFile = Math.floor(1024 / lineBytes);
    assert.ok(calls.length > perFile * 2 && calls.length <= perFile * 3, `${calls.length} lines kept`);
    assert.deepEqual(calls, Array.from({ length: calls.length }, (_, i) => total - calls.length + i), "the newest lines, in order, none torn");
    assert.equal((await stat(file)).mode & 0o777, 0o600);
  });

  it("appends to an existing file and counts its size toward the limit", async () => {
    const file = path.join(dir, "append.jsonl");
    await writeFile(file, `${JSON.stringify(record(100))}\n`.repeat(3));
    const audit = await openAuditLog({ target: file, maxBytes: 1024, keep: 1 });
    for (let i = 0; i < 3; i++) audit.record(record(200 + i));
    await audit.close();
    const current = (await readFile(file, "utf8")).trimEnd().split("\n");
    const rotated = (await readFile(`${file}.1`, "utf8")).trimEnd().split("\n");
    assert.equal(rotated.length, 3, "the three old lines filled the file, so it rotated");
    assert.deepEqual(current.map((l) => (JSON.parse(l) as AuditRecord).call), ["0d3c1b2a.200", "0d3c1b2a.201", "0d3c1b2a.202"]);
  });

  it("`-` writes lines to stdout, scrubbed; without a stdout (stdio mode) `-` is refused with a hint", async () => {
    const out = new PassThrough();
    let written = "";
    out.on("data", (chunk: Buffer) => (written += chunk.toString()));
    const audit = await openAuditLog({ target: "-", stdout: out, scrub: secretScrubber(() => [SECRET]) });
    audit.record(record(1, { outcome: "error", error: { code: "SECRET_MISSING", message: `value ${SECRET} leaked into a message` } }));
    audit.record(record(2));
    await audit.close();
    const lines = written.trimEnd().split("\n").map((l) => JSON.parse(l) as AuditRecord);
    assert.deepEqual(lines.map((l) => l.call), ["0d3c1b2a.1", "0d3c1b2a.2"]);
    assert.equal(lines[0]?.error?.message, "value *** leaked into a message");
    assert.ok(!written.includes(SECRET));
    await assert.rejects(openAuditLog({ target: "-" }), (error: Error & { hint?: string }) => /AUDIT_LOG_STDOUT_UNAVAILABLE/.test(error.message) && /file path/.test(error.hint ?? ""));
    await assert.rejects(openAuditLog({ target: path.join(dir, "x.jsonl"), keep: 0 }), /BAD_AUDIT_KEEP/);
  });

  it("the CLI's stdio command refuses `--audit-log -` before starting anything", async () => {
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ["--import", "tsx", path.join(root, "src", "bin.ts"), "stdio", "--audit-log", "-", "--registry", dir], { cwd: root, timeout: 60_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    assert.notEqual(result.code, 0);
    assert.equal(result.stdout, "", "nothing but protocol on stdout");
    assert.match(result.stderr, /AUDIT_LOG_STDOUT_UNAVAILABLE/);
  });
});

describe("secret scrubbing", () => {
  it("every log line has known secret values replaced, whatever field holds them (also JSON-escaped ones)", () => {
    const quoted = 'pa"ss\\word-99';
    const values: string[] = [SECRET, quoted, "abc"];
    const dest = memoryDestination();
    const logger = pino({ level: "info" }, scrubbingDestination(dest, secretScrubber(() => values)));
    logger.child({ server: "x" }).warn({ detail: { token: SECRET }, err: new Error(`failed with ${quoted}`) }, `calling with ${SECRET}`);
    logger.info("abc is too short to be scrubbed");
    const out = dest.lines.join("");
    assert.ok(!out.includes(SECRET), out);
    assert.ok(!out.includes(JSON.stringify(quoted).slice(1, -1)), out);
    const first = JSON.parse(dest.lines[0] ?? "{}") as { msg: string; detail: { token: string }; err: { message: string } };
    assert.equal(first.msg, "calling with ***");
    assert.equal(first.detail.token, "***");
    assert.equal(first.err.message, "failed with ***");
    assert.match(dest.lines[1] ?? "", /abc is too short/);
  });

  it("knows the values of the secrets servers declare, and picks up added values", () => {
    const server = testServer(
      "github",
      npmPackage("@modelcontextprotocol/server-everything", {
        environmentVariables: [
          { name: "GITHUB_TOKEN", isSecret: true },
          { name: "PLAIN", value: "not-a-secret" },
          { name: "AUTH", value: "Bearer {tok}", variables: { tok: { isSecret: true } } },
        ],
      }),
    );
    assert.deepEqual(declaredSecretNames(server).sort(), ["GITHUB_TOKEN", "tok"]);
    const known = new KnownSecrets();
    const scrub = secretScrubber(known.values);
    known.declare([server], staticSecretSource({ GITHUB_TOKEN: "ghp_planted_value_1", tok: "tok-planted-2", PLAIN: "plain-value-3" }));
    assert.equal(scrub("ghp_planted_value_1 tok-planted-2 plain-value-3"), "*** *** plain-value-3");
    known.add(KEY);
    assert.equal(scrub(`key ${KEY}`), "key ***");
  });

  it("also knows a secret header's env-style name and an OpenAPI server's auth secret", () => {
    const remote = {
      ...testServer("remote", npmPackage("@modelcontextprotocol/server-everything")),
      entry: { name: "dev.mcp-router.test/remote", description: "r", version: "1.0.0", remotes: [{ type: "streamable-http" as const, url: "https://api.example.test/mcp", headers: [{ name: "X-Api-Key", isSecret: true }] }], router: { prefix: "remote" } },
    };
    assert.deepEqual(declaredSecretNames(remote).sort(), ["X-Api-Key", "X_API_KEY"]);
    const api = {
      ...testServer("api", npmPackage("@modelcontextprotocol/server-everything")),
      entry: { name: "dev.mcp-router.test/api", description: "a", version: "1.0.0", router: { prefix: "api", openapi: { spec: "openapi/api.yaml", auth: { type: "bearer" as const, secret: "API_TOKEN" } } } },
    };
    assert.deepEqual(declaredSecretNames(api), ["API_TOKEN"]);
  });
});

describe("metrics (no Docker)", () => {
  it("counts reloads as applied, partial or failed and shows the applied revision", async () => {
    const metrics = new GatewayMetrics({ processMetrics: false });
    metrics.observeReload({ lastAppliedRevision: "r1", lastAppliedAt: "t1", failures: 0, servers: [{ reason: "Applied", stale: false }] });
    metrics.observeReload({ lastAppliedRevision: "r1", lastAppliedAt: "t1", failures: 1, servers: [{ reason: "Applied", stale: false }] });
    metrics.observeReload({ lastAppliedRevision: "r2", lastAppliedAt: "t2", failures: 2, servers: [{ reason: "Applied", stale: false }, { reason: "ValidationFailed", stale: false }] });
    const body = await metrics.render();
    assert.match(body, /^mcp_router_reloads_total\{outcome="applied"\} 1$/m);
    assert.match(body, /^mcp_router_reloads_total\{outcome="failed"\} 1$/m);
    assert.match(body, /^mcp_router_reloads_total\{outcome="partial"\} 1$/m);
    assert.match(body, /^mcp_router_applied_revision_info\{revision="r2"\} 1$/m);
    assert.doesNotMatch(body, /revision="r1"/);
    assert.match(body, /^mcp_router_registry_servers\{reason="ValidationFailed"\} 1$/m);
  });
});

/** Prometheus text -> value of one sample (exact name and labels as written), or undefined. */
function sample(body: string, series: string): number | undefined {
  for (const line of body.split("\n")) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

function everythingYaml(n: number): string {
  const version = installedVersion("@modelcontextprotocol/server-everything");
  return `name: io.github.modelcontextprotocol/server-everything
description: Reference server, operations ${n}
version: ${version}
packages:
  - registryType: npm
    identifier: "@modelcontextprotocol/server-everything"
    version: ${version}
    transport:
      type: stdio
    environmentVariables:
      - name: OPS_TOKEN
        description: a planted secret; its value must never show in logs or audit lines
        isSecret: true
router:
  prefix: everything
  tools:
    - name: echo
      description: Echoes back the input
      inputSchema:
        type: object
        properties:
          message: {type: string}
        required: [message]
`;
}

/**
 * Needs a secret that was granted when the file was applied but is gone from the launcher's store
 * by call time (a rotated secrets file): every call fails before a container starts (SECRET_MISSING).
 */
function brokenYaml(): string {
  const version = installedVersion("@modelcontextprotocol/server-everything");
  return `name: io.github.modelcontextprotocol/broken
description: Needs a secret that is not set
version: ${version}
packages:
  - registryType: npm
    identifier: "@modelcontextprotocol/server-everything"
    version: ${version}
    transport:
      type: stdio
    environmentVariables:
      - name: OPS_MISSING_TOKEN
        description: never set
        isSecret: true
        isRequired: true
router:
  prefix: broken
  tools:
    - name: echo
      description: Echoes back the input
      inputSchema: {type: object, properties: {message: {type: string}}}
`;
}

describeWhen(hasDocker, "metrics, audit log and logs of a serving gateway (real containers)", {}, () => {
  let dir: string;
  let launcher: DockerLauncher;
  let daemon: Daemon | undefined;
  let sync: RegistrySync;
  let http: HttpGateway;
  let client: Client;
  let auditFile: string;
  const logs = memoryDestination();
  let logger: Logger;
  const auth = { authorization: `Bearer ${KEY}` };

  const metricsText = async (): Promise<string> => {
    const res = await fetch(new URL("/metrics", http.url), { headers: auth });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    return res.text();
  };
  const auditLines = async (): Promise<AuditRecord[]> =>
    (await readFile(auditFile, "utf8").catch(() => ""))
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as AuditRecord);

  before(async () => {
    const images = await ensureTestImages();
    const docker = new Docker();
    await Promise.all((await listOurContainers(OWNER)).map((c) => docker.getContainer(c.Id).remove({ force: true })));
    dir = await mkdtemp(path.join(tmpdir(), "mcp-router-ops-"));
    const servers = path.join(dir, "registry", "servers");
    await mkdir(servers, { recursive: true });
    await writeFile(path.join(servers, "everything.yaml"), everythingYaml(1));
    await writeFile(path.join(servers, "broken.yaml"), brokenYaml());
    auditFile = path.join(dir, "audit", "audit.jsonl");

    // The daemon as `serve` assembles it: known secrets -> scrubber for logs, audit lines and client errors.
    const secrets = staticSecretSource({ OPS_TOKEN: SECRET });
    launcher = await DockerLauncher.create({ docker, logger: pino({ level: "silent" }), secrets, dataDir: testDataDir(), owner: OWNER, baseImages: { node: images.nodeBase }, pool: false });
    daemon = await startDaemon({
      registry: { dir: path.join(dir, "registry") },
      dataDir: path.join(dir, "data"),
      // The store the files were checked against still grants OPS_MISSING_TOKEN; the launcher's no longer has it.
      secrets: staticSecretSource({ OPS_TOKEN: SECRET, OPS_MISSING_TOKEN: "granted-at-apply-only" }),
      log: { level: "debug", destination: logs },
      http: { host: "127.0.0.1", port: 0, apiKeys: [KEY] },
      audit: { target: auditFile },
      launcher,
    });
    ({ sync, logger } = daemon);
    http = daemon.http!;
    await sync.started;
    assert.equal(sync.status().ready, true, JSON.stringify(sync.status()));
    client = new Client({ name: "ops-test", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL("/mcp", http.url), { requestInit: { headers: auth } }));
  });

  after(async () => {
    await client?.close().catch(() => undefined);
    await daemon?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    assert.deepEqual(await listOurContainers(OWNER), [], "no container left");
  });

  it("a call, a tool error and a failed call: metrics, one audit line each, call ids in the logs", async () => {
    const ok = await client.callTool({ name: "everything__echo", arguments: { message: `${ARG_MARK} ${SECRET}` } });
    assert.equal(ok.isError ?? false, false);
    assert.match(text(ok), new RegExp(ARG_MARK), "the caller gets its own data back untouched");
    const toolError = await client.callTool({ name: "everything__echo", arguments: { message: 42, note: ARG_MARK } });
    assert.equal(toolError.isError, true, `server-everything rejects a non-string message: ${JSON.stringify(toolError)}`);
    await assert.rejects(client.callTool({ name: "broken__echo", arguments: { message: ARG_MARK } }), /SECRET_MISSING/);
    // An error message the gateway sends back never carries a secret value.
    await assert.rejects(client.callTool({ name: `everything__${SECRET}`, arguments: {} }), (error: Error) => {
      assert.match(error.message, /everything__\*\*\*/);
      assert.ok(!error.message.includes(SECRET));
      return true;
    });

    // /metrics: 401 without the key.
    const denied = await fetch(new URL("/metrics", http.url));
    assert.equal(denied.status, 401);
    const body = await metricsText();
    const calls = (server: string, outcome: string) => sample(body, `mcp_router_calls_total{server="${server}",method="tools/call",tool="echo",outcome="${outcome}"}`);
    assert.equal(calls("everything", "ok"), 1);
    assert.equal(calls("everything", "tool_error"), 1);
    assert.equal(calls("broken", "error"), 1);
    assert.equal(calls("everything", "error"), 0, "every outcome of a seen tool is exported, zero or not");
    assert.equal(sample(body, 'mcp_router_call_seconds_count{server="everything"}'), 2);
    assert.equal(sample(body, 'mcp_router_call_queue_seconds_count{server="everything"}'), 2);
    assert.equal(sample(body, 'mcp_router_call_start_seconds_count{server="everything"}'), 2, "per-call without a pool: each call started a container");
    assert.ok((sample(body, 'mcp_router_call_start_seconds_sum{server="everything"}') ?? 0) > 0);
    assert.equal(sample(body, 'mcp_router_call_seconds_count{server="broken"}'), undefined, "no lease, no latency observed");
    assert.ok((sample(body, "mcp_router_containers_started_total") ?? 0) >= 2);
    assert.notEqual(sample(body, "mcp_router_containers"), undefined);
    assert.notEqual(sample(body, "mcp_router_queued_calls"), undefined);
    assert.notEqual(sample(body, 'mcp_router_containers_running{server="everything"}'), undefined);
    assert.notEqual(sample(body, 'mcp_router_pool_target{server="everything"}'), undefined);
    assert.equal(sample(body, "mcp_router_sessions"), 1);
    assert.ok((sample(body, "mcp_router_process_resident_memory_bytes") ?? 0) > 0, "process metrics");
    assert.match(body, /^mcp_router_nodejs_eventloop_lag_seconds /m);

    // The audit log: one line per upstream call, with every field, no arguments, no secret.
    const revision = sync.status().lastAppliedRevision ?? "";
    const lines = await waitFor("three audit lines", async () => ((await auditLines()).length >= 3 ? auditLines() : undefined));
    assert.equal(lines.length, 3, JSON.stringify(lines));
    const raw = await readFile(auditFile, "utf8");
    assert.ok(!raw.includes(ARG_MARK), "no argument value in the audit log");
    assert.ok(!raw.includes(SECRET), "no secret value in the audit log");
    assert.ok(!raw.includes(KEY), "no API key in the audit log");
    const keyId = createHash("sha256").update(KEY).digest("hex").slice(0, 8);
    const [okLine, errorLine, failedLine] = lines;
    for (const line of lines) {
      assert.ok(!Number.isNaN(Date.parse(line.time)) && line.time.endsWith("Z"), line.time);
      assert.equal(line.key, keyId);
      assert.match(line.session, /^[0-9a-f-]{36}$/);
      assert.equal(line.method, "tools/call");
      assert.equal(line.tool, "echo");
      assert.equal(line.revision, revision);
      assert.equal(typeof line.durationMs, "number");
      assert.match(line.call, /^[0-9a-f]{8}\.\d+$/);
    }
    assert.deepEqual([okLine?.server, okLine?.outcome], ["everything", "ok"]);
    assert.match(okLine?.container ?? "", /^[0-9a-f]{12}$/);
    assert.ok((okLine?.startMs ?? 0) > 0);
    assert.deepEqual([errorLine?.server, errorLine?.outcome], ["everything", "tool_error"]);
    assert.notEqual(errorLine?.container, okLine?.container, "per-call: a fresh container each");
    assert.deepEqual([failedLine?.server, failedLine?.outcome, failedLine?.error?.code, failedLine?.container], ["broken", "error", "SECRET_MISSING", undefined]);
    assert.match(failedLine?.error?.message ?? "", /OPS_MISSING_TOKEN/);

    // The call's log line: the same call id, with revision, server, tool and timings.
    const logLines = logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const done = logLines.find((l) => l.msg === "tool call done" && l.call === okLine?.call);
    assert.ok(done, "a log line for the call");
    assert.deepEqual([done.revision, done.server, done.tool, done.outcome, done.level], [revision, "everything", "echo", "ok", 30]);
    assert.equal(typeof done.queueMs, "number");
    assert.equal(typeof done.callMs, "number");
    const failed = logLines.find((l) => l.msg === "tool call failed" && l.call === failedLine?.call);
    assert.equal(failed?.level, 40, "failures log at warn");
  });

  it("a log line carrying a declared secret's value comes out scrubbed", () => {
    logger.warn({ detail: `token=${SECRET}` }, `the upstream said ${SECRET}`);
    const last = logs.lines.at(-1) ?? "";
    assert.match(last, /the upstream said \*\*\*/);
    assert.match(last, /token=\*\*\*/);
    assert.ok(!logs.lines.join("").includes(SECRET), "no log line holds the secret");
  });

  it("reloads: the counter and the revision info follow registry changes", async () => {
    const first = sync.status().lastAppliedRevision ?? "";
    let body = await metricsText();
    assert.equal(sample(body, 'mcp_router_reloads_total{outcome="applied"}'), 1);
    assert.equal(sample(body, `mcp_router_applied_revision_info{revision="${first}"}`), 1);

    await writeFile(path.join(dir, "registry", "servers", "everything.yaml"), everythingYaml(2));
    await waitFor("the new revision", () => (sync.status().lastAppliedRevision !== first ? true : undefined));
    const second = sync.status().lastAppliedRevision ?? "";
    body = await metricsText();
    assert.equal(sample(body, 'mcp_router_reloads_total{outcome="applied"}'), 2);
    assert.equal(sample(body, `mcp_router_applied_revision_info{revision="${second}"}`), 1);
    assert.equal(sample(body, `mcp_router_applied_revision_info{revision="${first}"}`), undefined, "only the serving revision");

    // A broken file: applied, but that server file keeps its last good version (partial).
    await writeFile(path.join(dir, "registry", "servers", "bad.yaml"), "name: [unclosed\n");
    await waitFor("the revision with a broken file", () => (sync.status().lastAppliedRevision !== second ? true : undefined));
    body = await metricsText();
    assert.equal(sample(body, 'mcp_router_reloads_total{outcome="partial"}'), 1);
    assert.equal(sample(body, 'mcp_router_registry_servers{reason="ValidationFailed"}'), 1);

    // A call after the reload names the revision its server version came from.
    await client.callTool({ name: "everything__echo", arguments: { message: "after reload" } });
    const lines = await waitFor("the fourth audit line", async () => ((await auditLines()).length >= 4 ? auditLines() : undefined));
    assert.equal(lines.at(-1)?.revision, second);
  });
});
