/**
 * The launcher against a real Docker engine and real MCP servers from npm. Skipped only when no
 * engine answers AND CI is unset; under CI a missing engine fails this file.
 */
import assert from "node:assert/strict";
import { chmod, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { UpstreamClient } from "../../src/launch/launcher.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import Docker from "dockerode";
import { pino } from "pino";
import { callTool, listTools, toolCall } from "../../src/launch/call-tool.js";
import { containerSpec } from "../../src/launch/docker/container-spec.js";
import { DockerLauncher } from "../../src/launch/docker/docker-launcher.js";
import type { DockerLauncherOptions } from "../../src/launch/docker/docker-launcher.js";
import { isLaunchError } from "../../src/launch/errors.js";
import { staticSecretSource } from "../../src/secrets/secret-source.js";
import type { RegistryServer } from "../../src/registry/types.js";
import type { TestImages } from "../support/docker.js";
import { containerGone, describeWhen, dockerUnlessCi, ensureTestImages, listOurContainers, testDataDir } from "../support/docker.js";
import { npmPackage, ociPackage, testServer } from "../support/servers.js";

const OWNER = "test-launch";
const hasDocker = await dockerUnlessCi();

const docker = new Docker();
const logger = pino({ level: process.env.LOG_LEVEL ?? "silent" });

function text(result: CallToolResult): string {
  const first = result.content[0];
  assert.ok(first && first.type === "text", `expected text content, got ${JSON.stringify(result)}`);
  return first.text;
}

describeWhen(hasDocker, "DockerLauncher (real Docker engine)", {}, () => {
  let images: TestImages;
  let launcher: DockerLauncher;
  let everything: RegistryServer;
  let memory: RegistryServer;
  let memorySession: RegistryServer;
  const progress: string[] = [];
  const launchers: DockerLauncher[] = [];

  async function newLauncher(extra: Partial<DockerLauncherOptions> = {}): Promise<DockerLauncher> {
    const l = await DockerLauncher.create({
      docker,
      logger,
      secrets: staticSecretSource({ PROBE_TOKEN: "tok-very-secret-123" }, "the test environment"),
      dataDir: testDataDir(),
      owner: OWNER,
      baseImages: { node: images.nodeBase },
      pool: false,
      ...extra,
    });
    launchers.push(l);
    return l;
  }

  function probe(prefix: string, router: Parameters<typeof testServer>[2] = {}, extra: Parameters<typeof ociPackage>[1] = {}): RegistryServer {
    return testServer(prefix, ociPackage(images.probe, extra), router);
  }

  before(async () => {
    images = await ensureTestImages();
    // Containers of ours left by an earlier, interrupted run of this file.
    await Promise.all((await listOurContainers(OWNER)).map((c) => docker.getContainer(c.Id).remove({ force: true })));
    launcher = await newLauncher();
    everything = testServer("everything", npmPackage("@modelcontextprotocol/server-everything"));
    const memoryPkg = npmPackage("@modelcontextprotocol/server-memory", {
      environmentVariables: [{ name: "MEMORY_FILE_PATH", value: "/tmp/memory.jsonl" }],
    });
    memory = testServer("memory", memoryPkg);
    memorySession = testServer("memory-session", memoryPkg, { lifecycle: "per-session" });
    await launcher.prepare(everything, (m) => progress.push(m));
    await launcher.prepare(memory, (m) => progress.push(m));
    await launcher.prepare(memorySession, (m) => progress.push(m));
  });

  after(async () => {
    for (const l of launchers) await l.close();
    const left = await listOurContainers(OWNER);
    assert.deepEqual(left.map((c) => c.Id.slice(0, 12)), [], "no container of ours is left after the suite");
  });

  it("prepares npm servers into derived images, with progress", () => {
    assert.ok(progress.some((m) => /everything/.test(m)), `progress messages: ${progress.join(" / ")}`);
  });

  it("server-everything: echo and tools/list in a fresh container", async () => {
    const result = await callTool(launcher, everything, "echo", { message: "hello" });
    assert.equal(text(result), "Echo: hello");
    const tools = await listTools(launcher, everything);
    assert.ok(tools.some((t) => t.name === "echo"));
  });

  it("server-memory per-call: an entity created in one call is gone in the next", async () => {
    const created = await callTool(launcher, memory, "create_entities", { entities: [{ name: "alice", entityType: "person", observations: ["x"] }] });
    assert.match(text(created), /alice/);
    const graph = await callTool(launcher, memory, "read_graph", {});
    assert.doesNotMatch(JSON.stringify(graph), /alice/);
  });

  it("server-memory per-session: the entity stays within the session, not across sessions; endSession removes it", async () => {
    const a1 = await launcher.acquire(memorySession, { sessionId: "A" });
    await a1.run((c) => toolCall(c, { name: "create_entities", arguments: { entities: [{ name: "bob", entityType: "person", observations: [] }] } }));
    a1.release();
    const a2 = await launcher.acquire(memorySession, { sessionId: "A" });
    assert.equal(a2.containerId, a1.containerId);
    assert.equal(a2.timings.warm, true);
    const graphA = await a2.run((c) => toolCall(c, { name: "read_graph", arguments: {} }));
    a2.release();
    assert.match(JSON.stringify(graphA), /bob/);
    const graphB = await callTool(launcher, memorySession, "read_graph", {}, { sessionId: "B" });
    assert.doesNotMatch(JSON.stringify(graphB), /bob/);
    await launcher.endSession("A");
    await launcher.endSession("B");
    await containerGone(a1.containerId);
  });

  it("server-filesystem: reads a declared read-only mount, cannot write to it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mcp-fs-"));
    await writeFile(join(dir, "hello.txt"), "hi from the host", { mode: 0o644 });
    await chmod(dir, 0o755); // the server runs as nobody (65534): a mount must be readable by it
    const fs = testServer(
      "filesystem",
      npmPackage("@modelcontextprotocol/server-filesystem", { packageArguments: [{ type: "positional", value: "/data" }] }),
      { mounts: [{ source: dir, target: "/data" }] },
    );
    await launcher.prepare(fs);
    const read = await callTool(launcher, fs, "read_text_file", { path: "/data/hello.txt" });
    assert.match(text(read), /hi from the host/);
    const write = await callTool(launcher, fs, "write_file", { path: "/data/new.txt", content: "x" });
    assert.equal(write.isError, true);
    assert.match(text(write), /read-only|EROFS/i);
  });

  describe("hardening, checked by behaviour", () => {
    let server: RegistryServer;
    before(() => {
      server = probe("probe-hardening", { limits: { pids: 32 } }, { environmentVariables: [{ name: "PROBE_TOKEN", isSecret: true, isRequired: true }, { name: "PLAIN", value: "v" }] });
    });

    it("runs as nobody, not root", async () => {
      const who = JSON.parse(text(await callTool(launcher, server, "whoami"))) as { uid: number; gid: number };
      assert.equal(who.uid, 65534);
      assert.equal(who.gid, 65534);
    });

    it("the root filesystem is read-only; /tmp is a writable tmpfs", async () => {
      assert.deepEqual(JSON.parse(text(await callTool(launcher, server, "write", { path: "/probe.txt" }))), { ok: false, code: "EROFS" });
      assert.deepEqual(JSON.parse(text(await callTool(launcher, server, "write", { path: "/opt/probe/x" }))), { ok: false, code: "EROFS" });
      assert.deepEqual(JSON.parse(text(await callTool(launcher, server, "write", { path: "/tmp/probe.txt" }))), { ok: true });
    });

    it("has no network: only loopback, and names do not resolve (no packet leaves)", async () => {
      const net = JSON.parse(text(await callTool(launcher, server, "net"))) as { interfaces: string[]; dns: string };
      assert.deepEqual(net.interfaces, ["lo"]);
      assert.notEqual(net.dns, "resolved");
    });

    it("a fork bomb hits the pids limit", async () => {
      const bomb = JSON.parse(text(await callTool(launcher, server, "forkbomb", { max: 500 }))) as { spawned: number; error: string | null };
      assert.equal(bomb.error, "EAGAIN", `fork bomb result ${JSON.stringify(bomb)}`);
      assert.ok(bomb.spawned < 32, `spawned ${bomb.spawned} processes under pids 32`);
    });

    it("gets only declared env vars; the secret is in env, not on the command line", async () => {
      const lease = await launcher.acquire(server, { sessionId: "s" });
      const env = JSON.parse(text(await lease.run((c) => toolCall(c, { name: "env", arguments: {} }) as Promise<CallToolResult>))) as Record<string, string>;
      const info = await docker.getContainer(lease.containerId ?? "").inspect();
      lease.release();
      assert.equal(env.PROBE_TOKEN, "tok-very-secret-123");
      assert.equal(env.PLAIN, "v");
      assert.deepEqual(Object.keys(env).sort(), ["HOME", "HOSTNAME", "PATH", "PLAIN", "PROBE_TOKEN"]);
      assert.ok(!JSON.stringify([info.Path, info.Args, info.Config.Cmd]).includes("tok-very-secret"));
      assert.equal(info.HostConfig.CapDrop?.[0], "ALL");
    });

    it("the same create options run a throwaway command that cannot escalate (no-new-privileges, no caps)", async () => {
      const spec = containerSpec(server, { image: images.probe, secrets: staticSecretSource({ PROBE_TOKEN: "t" }), owner: OWNER });
      const container = await docker.createContainer({
        ...spec.create,
        Entrypoint: ["node", "-e", "const s=require('fs').readFileSync('/proc/self/status','utf8');console.log(JSON.stringify({nnp:/NoNewPrivs:\\s*(\\d)/.exec(s)[1],capEff:/CapEff:\\s*(\\w+)/.exec(s)[1]}))"],
        Cmd: [],
        OpenStdin: false,
        AttachStdin: false,
        HostConfig: { ...spec.create.HostConfig, LogConfig: { Type: "json-file", Config: {} } },
      });
      try {
        await container.start();
        const { StatusCode } = (await container.wait()) as { StatusCode: number };
        const logs = (await container.logs({ stdout: true, stderr: true })).toString("utf8");
        assert.equal(StatusCode, 0, logs);
        const status = JSON.parse(logs.slice(logs.indexOf("{"))) as { nnp: string; capEff: string };
        assert.equal(status.nnp, "1");
        assert.equal(status.capEff, "0000000000000000");
      } finally {
        await container.remove({ force: true });
      }
    });
  });

  it("a missing required secret fails fast, naming the variable, before any container starts", async () => {
    const server = probe("probe-secret", {}, { environmentVariables: [{ name: "MISSING_API_KEY", isSecret: true, isRequired: true }] });
    const startedBefore = launcher.stats().started;
    const t0 = performance.now();
    await assert.rejects(launcher.acquire(server, { sessionId: "s" }), (error: unknown) => {
      assert.ok(isLaunchError(error, "SECRET_MISSING"));
      assert.match(error.message, /MISSING_API_KEY/);
      assert.match(error.message, /secrets file/);
      return true;
    });
    assert.ok(performance.now() - t0 < 100);
    assert.equal(launcher.stats().started, startedBefore);
    const ofServer = await docker.listContainers({ all: true, filters: JSON.stringify({ label: ["dev.mcp-router.server=probe-secret"] }) });
    assert.equal(ofServer.length, 0);
  });

  it("a per-call timeout kills the container", async () => {
    const server = probe("probe-timeout", { limits: { timeoutSeconds: 1 } });
    const lease = await launcher.acquire(server, { sessionId: "s" });
    const t0 = performance.now();
    await assert.rejects(
      lease.run((c, signal) => toolCall(c, { name: "sleep", arguments: { ms: 30_000 } }, { signal })),
      (error: unknown) => isLaunchError(error, "TIMEOUT") && /timed out after 1 s; its container was killed/.test((error as Error).message),
    );
    assert.ok(performance.now() - t0 < 3000);
    lease.release();
    await containerGone(lease.containerId);
  });

  it("cancelling a call kills the container", async () => {
    const server = probe("probe-abort");
    const lease = await launcher.acquire(server, { sessionId: "s" });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    await assert.rejects(
      lease.run((c, signal) => toolCall(c, { name: "sleep", arguments: { ms: 30_000 } }, { signal }), controller.signal),
      (error: unknown) => isLaunchError(error, "ABORTED"),
    );
    lease.release();
    await containerGone(lease.containerId);
  });

  it("a crash mid-call is an MCP error with the exit code and the last stderr lines", async () => {
    const server = probe("probe-crash");
    await assert.rejects(callTool(launcher, server, "crash", { code: 3 }), (error: unknown) => {
      assert.ok(isLaunchError(error, "CONTAINER_CRASHED"), String(error));
      assert.match(error.message, /exited with code 3/);
      assert.match(error.message, /probe: about to crash on purpose/);
      assert.equal((error.data as { exitCode: number }).exitCode, 3);
      return true;
    });
  });

  it("shared: one long-lived container, restarted after it dies", async () => {
    const server = probe("probe-shared", { lifecycle: "shared" });
    const l1 = await launcher.acquire(server, { sessionId: "a" });
    const l2 = await launcher.acquire(server, { sessionId: "b" });
    assert.equal(l1.containerId, l2.containerId);
    await assert.rejects(l1.run((c) => toolCall(c, { name: "crash", arguments: { code: 7 } })), /exited with code 7/);
    l1.release();
    l2.release();
    const l3 = await launcher.acquire(server, { sessionId: "c" });
    assert.notEqual(l3.containerId, l1.containerId);
    assert.equal(text((await l3.run((c) => toolCall(c, { name: "echo", arguments: { text: "back" } }))) as CallToolResult), "back");
    l3.release();
    await launcher.retire(server);
    await containerGone(l3.containerId);
  });

  it("retire drains: a busy per-session container goes away once released", async () => {
    const server = probe("probe-retire", { lifecycle: "per-session" });
    const lease = await launcher.acquire(server, { sessionId: "r" });
    await launcher.retire(server);
    assert.equal(text((await lease.run((c) => toolCall(c, { name: "echo", arguments: { text: "still" } }))) as CallToolResult), "still");
    lease.release();
    await containerGone(lease.containerId);
  });

  it("caps: a full launcher with a full queue refuses with SATURATED; a queued caller gets the freed slot", async () => {
    const small = await newLauncher({ maxContainers: 1, maxQueue: 1 });
    const server = probe("probe-cap");
    const held = await small.acquire(server, { sessionId: "s" });
    const queued = small.acquire(server, { sessionId: "s" });
    await assert.rejects(small.acquire(server, { sessionId: "s" }), (e: unknown) => isLaunchError(e, "SATURATED") && /1\/1 containers/.test((e as Error).message));
    assert.equal(small.stats().queued, 1);
    held.release();
    const next = await queued;
    assert.ok(next.timings.queueMs > 0);
    next.release();
    await small.close();
  });

  it("warm pool: calls are served by fresh, pre-initialized containers, each used exactly once", async () => {
    const pooled = await newLauncher({ pool: { min: 1, max: 2 } });
    const server = probe("probe-pool");
    const first = await pooled.acquire(server, { sessionId: "s" });
    assert.equal(first.timings.warm, false);
    const firstClient: UpstreamClient = first.client;
    await first.run((c) => toolCall(c, { name: "echo", arguments: { text: "1" } }));
    await assert.rejects(first.run((c) => toolCall(c, { name: "echo", arguments: { text: "again" } })), /exactly one request/);
    first.release();
    const ids = new Set<string | undefined>([first.containerId]);
    for (let i = 0; i < 3; i++) {
      await pooled.waitWarm(server, 1);
      const lease = await pooled.acquire(server, { sessionId: "s" });
      assert.equal(lease.timings.warm, true);
      assert.equal(lease.timings.startMs, 0);
      assert.notEqual(lease.client, firstClient);
      assert.ok(!ids.has(lease.containerId), "a pooled container is never reused");
      ids.add(lease.containerId);
      assert.equal(text((await lease.run((c) => toolCall(c, { name: "echo", arguments: { text: `n${i}` } }))) as CallToolResult), `n${i}`);
      lease.release();
    }
    const stats = pooled.stats();
    assert.ok(stats.poolHits >= 3);
    assert.ok(stats.containers <= stats.maxContainers);
    await pooled.close();
    for (const id of ids) await containerGone(id);
  });

  it("reaps containers left by a previous run (by label) at start-up", async () => {
    const server = probe("probe-orphan");
    const spec = containerSpec(server, { image: images.probe, secrets: staticSecretSource({}), owner: "test-orphans" });
    const orphan = await docker.createContainer(spec.create);
    await orphan.start();
    const fresh = await DockerLauncher.create({ docker, logger, secrets: staticSecretSource({}), dataDir: testDataDir(), owner: "test-orphans", pool: false });
    await containerGone(orphan.id);
    assert.equal((await listOurContainers("test-orphans")).length, 0);
    await fresh.close();
  });
});
