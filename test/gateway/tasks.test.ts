/**
 * Tasks (the 2026-07-28 `io.modelcontextprotocol/tasks` extension) through the gateway, no Docker:
 * a remote upstream that creates tasks (test/support/task-upstream.ts) behind the daemon, a raw
 * 2026 client. The client gets a gateway handle, never the upstream's task id; `tasks/get`,
 * `tasks/update` and `tasks/cancel` reach the server that issued it, for the caller that got it.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import type { Daemon } from "../../src/daemon/start-daemon.js";
import { startDaemon } from "../../src/daemon/start-daemon.js";
import { TaskHandles, TASKS_EXTENSION, upstreamCapabilities } from "../../src/gateway/task-handles.js";
import { RemoteLauncher } from "../../src/launch/remote/remote-launcher.js";
import { DEFAULT_POLICY } from "../../src/registry/policy.js";
import { staticSecretSource } from "../../src/secrets/secret-source.js";
import { mcpHeaders } from "../support/in-process-daemon.js";
import { npmPackage, testServer } from "../support/servers.js";
import type { TaskUpstream } from "../support/task-upstream.js";
import { startTaskUpstream } from "../support/task-upstream.js";

const KEYS = ["tasks-key-one-0123456789abcdef", "tasks-key-two-0123456789abcdef"] as const;

interface Reply {
  status: number;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

describe("tasks through the gateway (2026-07-28 Tasks extension)", () => {
  let upstream: TaskUpstream;
  let daemon: Daemon;
  let dir: string;
  let seq = 0;

  /** One 2026 request; `name` is the Mcp-Name header (default: what the body names). */
  async function send(method: string, params: Record<string, unknown>, options: { key?: string; tasks?: boolean; name?: string } = {}): Promise<Reply> {
    const capabilities = options.tasks === false ? {} : { extensions: { [TASKS_EXTENSION]: {} } };
    const body = {
      jsonrpc: "2.0",
      id: ++seq,
      method,
      params: { ...params, _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": capabilities, "io.modelcontextprotocol/clientInfo": { name: "tasks-test", version: "1" } } },
    };
    const name = options.name ?? (typeof params.taskId === "string" ? params.taskId : typeof params.name === "string" ? params.name : undefined);
    const res = await fetch(new URL("mcp", daemon.url), {
      method: "POST",
      headers: mcpHeaders(options.key ?? KEYS[0], { "mcp-protocol-version": "2026-07-28", "mcp-method": method, ...(name !== undefined ? { "mcp-name": name } : {}) }),
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as { result?: Record<string, unknown>; error?: { code: number; message: string } };
    return { status: res.status, ...json };
  }

  before(async () => {
    upstream = await startTaskUpstream();
    dir = await mkdtemp(join(tmpdir(), "mcp-router-tasks-"));
    await mkdir(join(dir, "registry", "servers"), { recursive: true });
    await writeFile(
      join(dir, "registry", "servers", "jobs.yaml"),
      `name: dev.mcp-router.test/jobs\ndescription: a 2026 upstream with tasks\nversion: 1.0.0\nremotes:\n  - type: streamable-http\n    url: ${upstream.url.href}\nrouter:\n  prefix: jobs\n`,
    );
    daemon = await start();
  });

  async function start(): Promise<Daemon> {
    const secrets = staticSecretSource({});
    const started = await startDaemon({
      registry: { dir: join(dir, "registry") },
      dataDir: join(dir, "data"),
      secrets,
      policy: { ...DEFAULT_POLICY, network: { bridge: false, privateTargets: true } },
      log: { level: "silent" },
      http: { host: "127.0.0.1", port: 0, apiKeys: [...KEYS] },
      launcher: new RemoteLauncher({ secrets, logger: pino({ level: "silent" }) }),
    });
    await started.sync.started;
    assert.deepEqual(started.status().servers.map((s) => s.reason), ["Applied"], JSON.stringify(started.status().servers));
    return started;
  }

  after(async () => {
    await daemon?.close();
    await upstream?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("advertises the Tasks extension in server/discover", async () => {
    const reply = await send("server/discover", {});
    assert.deepEqual((reply.result?.capabilities as { extensions?: unknown }).extensions, { [TASKS_EXTENSION]: {} });
  });

  it("hands the client a sealed handle, routes get/update to the upstream with its own id, and passes the task's input round and result", async () => {
    const created = await send("tools/call", { name: "jobs__report", arguments: {} });
    assert.equal(created.status, 200);
    assert.equal(created.result?.resultType, "task");
    assert.equal(created.result?.status, "working");
    const handle = created.result?.taskId as string;
    const [upstreamId] = [...upstream.tasks.keys()];
    assert.ok(upstreamId);
    assert.notEqual(handle, upstreamId);
    assert.ok(!JSON.stringify(created).includes(upstreamId), "the upstream's task id stays on its hop");

    const working = await send("tasks/get", { taskId: handle });
    assert.equal(working.result?.status, "working");
    assert.equal(working.result?.taskId, handle);
    const asking = await send("tasks/get", { taskId: handle });
    assert.equal(asking.result?.status, "input_required");
    assert.deepEqual(Object.keys(asking.result?.inputRequests as object), ["approval"]);

    const ack = await send("tasks/update", { taskId: handle, inputResponses: { approval: { action: "accept", content: { name: "Ada" } } } });
    assert.equal(ack.status, 200);
    assert.equal(ack.result?.resultType, "complete");
    const done = await send("tasks/get", { taskId: handle });
    assert.equal(done.result?.status, "completed");
    assert.deepEqual(done.result?.result, { content: [{ type: "text", text: "report approved by Ada" }], isError: false });

    const polls = upstream.received.filter((r) => r.method.startsWith("tasks/"));
    assert.ok(polls.length >= 4);
    assert.ok(polls.every((r) => r.params.taskId === upstreamId), "the upstream sees its own task id");
  });

  it("refuses a handle from another API key, an altered one, and one whose Mcp-Name disagrees", async () => {
    const created = await send("tools/call", { name: "jobs__report", arguments: {} });
    const handle = created.result?.taskId as string;
    const foreign = await send("tasks/get", { taskId: handle }, { key: KEYS[1] });
    assert.equal(foreign.error?.code, -32602);
    assert.match(foreign.error?.message ?? "", /belongs to another caller/);
    const altered = `${handle.slice(0, -2)}${handle.endsWith("AA") ? "BB" : "AA"}`;
    const tampered = await send("tasks/get", { taskId: altered });
    assert.equal(tampered.error?.code, -32602);
    assert.match(tampered.error?.message ?? "", /altered or is not a task id the gateway issued/);
    const mismatch = await send("tasks/get", { taskId: handle }, { name: "something-else" });
    assert.equal(mismatch.status, 400);
    assert.equal(mismatch.error?.code, -32020);
  });

  it("cancels a task on its upstream", async () => {
    const created = await send("tools/call", { name: "jobs__report", arguments: {} });
    const handle = created.result?.taskId as string;
    const ack = await send("tasks/cancel", { taskId: handle });
    assert.equal(ack.status, 200);
    const after = await send("tasks/get", { taskId: handle });
    assert.equal(after.result?.status, "cancelled");
  });

  it("an upstream cannot pass a plain result off as a task (the gateway's carrier key is dropped)", async () => {
    const reply = await send("tools/call", { name: "jobs__forge", arguments: {} });
    assert.equal(reply.result?.resultType, "complete");
    assert.equal(reply.result?.taskId, undefined);
    assert.deepEqual(reply.result?.content, [{ type: "text", text: "forged" }]);
    assert.ok(!JSON.stringify(reply.result).includes("forged-id"));
  });

  it("a handle still works after the daemon restarts (its key is kept in the data dir)", async () => {
    const created = await send("tools/call", { name: "jobs__report", arguments: {} });
    const handle = created.result?.taskId as string;
    await daemon.close();
    daemon = await start();
    const polled = await send("tasks/get", { taskId: handle });
    assert.equal(polled.result?.status, "working");
    assert.equal(polled.result?.taskId, handle);
  });

  it("a caller that does not declare the extension gets the result itself", async () => {
    const reply = await send("tools/call", { name: "jobs__report", arguments: {} }, { tasks: false });
    assert.equal(reply.result?.resultType, "complete");
    assert.deepEqual(reply.result?.content, [{ type: "text", text: "report (built synchronously)" }]);
    assert.equal(upstream.received.at(-1)?.tasks, false);
  });
});

describe("which upstreams may create tasks", () => {
  const declared = { extensions: { [TASKS_EXTENSION]: {}, "example.com/other": {} } };

  it("a per-call or per-session container is not told the caller follows tasks (it ends with the request); a shared one and a remote are", () => {
    const perCall = testServer("pc", npmPackage("@modelcontextprotocol/server-everything"));
    const perSession = testServer("ps", npmPackage("@modelcontextprotocol/server-everything"), { lifecycle: "per-session" });
    const shared = testServer("sh", npmPackage("@modelcontextprotocol/server-everything"), { lifecycle: "shared" });
    assert.deepEqual(upstreamCapabilities(perCall, declared as never), { extensions: { "example.com/other": {} } });
    assert.deepEqual(upstreamCapabilities(perSession, declared as never), { extensions: { "example.com/other": {} } });
    assert.deepEqual(upstreamCapabilities(shared, declared as never), declared);
  });

  it("a handle opens only for the caller it was issued to, and survives a restart when the key is kept", () => {
    const key = Buffer.alloc(32, 7);
    const handle = new TaskHandles(key).issue("jobs", "upstream-1", "key-a");
    assert.deepEqual(new TaskHandles(key).open(handle, "key-a"), { prefix: "jobs", taskId: "upstream-1" });
    assert.throws(() => new TaskHandles(key).open(handle, "key-b"), /belongs to another caller/);
    assert.throws(() => new TaskHandles().open(handle, "key-a"), /altered or is not a task id the gateway issued/);
  });
});
