/**
 * Containers of either protocol era on a real Docker engine: a 2026-07-28 stdio server written with
 * the SDK v2 (test/support/modern-stdio-server.ts, built into a local image) and 2025 ones (the
 * probe image, server-everything from npm). The launcher learns each version's era once, at
 * prepare, on a throwaway container; a 2026 one's containers are then connected without
 * initialize. Through the daemon, the four combinations of client era x upstream era, with
 * elicitation and sampling rounds through per-call containers.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { Client as ModernClient, StreamableHTTPClientTransport as ModernHttp } from "@modelcontextprotocol/client";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CreateMessageRequestSchema, ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import Docker from "dockerode";
import { pino } from "pino";
import { toolCall } from "../../src/launch/call-tool.js";
import { DockerLauncher } from "../../src/launch/docker/docker-launcher.js";
import { toRegistryYaml } from "../../src/registry/server-json.js";
import type { RegistryServer } from "../../src/registry/types.js";
import { staticSecretSource } from "../../src/secrets/secret-source.js";
import { describeWhen, dockerUnlessCi, ensureTestImages, listOurContainers, testDataDir } from "../support/docker.js";
import type { TestImages } from "../support/docker.js";
import type { TestDaemon } from "../support/daemon.js";
import { startTestDaemon } from "../support/daemon.js";
import { npmPackage, ociPackage, testServer } from "../support/servers.js";

const OWNER = "test-container-eras";
const hasDocker = await dockerUnlessCi();
const docker = new Docker();

function text(result: unknown): string {
  const first = (result as CallToolResult).content?.[0];
  assert.ok(first && first.type === "text", `expected text content, got ${JSON.stringify(result)}`);
  return first.text;
}

describeWhen(hasDocker, "containers of either era (real Docker engine)", { timeout: 240_000 }, () => {
  let images: TestImages;
  let launcher: DockerLauncher;
  let modern: RegistryServer;
  let modernOnly: RegistryServer;
  let legacy: RegistryServer;
  const progress: string[] = [];

  before(async () => {
    images = await ensureTestImages();
    await Promise.all((await listOurContainers(OWNER)).map((c) => docker.getContainer(c.Id).remove({ force: true })));
    launcher = await DockerLauncher.create({
      docker,
      logger: pino({ level: process.env.LOG_LEVEL ?? "silent" }),
      secrets: staticSecretSource({}),
      dataDir: testDataDir(),
      owner: OWNER,
      baseImages: { node: images.nodeBase },
      pool: { max: 1, min: 1 },
    });
    modern = testServer("modern", ociPackage(images.modern));
    modernOnly = testServer("modern-only", ociPackage(images.modern, { packageArguments: [{ type: "positional", value: "--modern-only" }] }));
    legacy = testServer("legacy", ociPackage(images.probe));
    for (const server of [modern, modernOnly, legacy]) await launcher.prepare(server, (m) => progress.push(m));
  });

  after(async () => {
    await launcher?.close();
  });

  it("probes each version's era once at prepare, on a throwaway container it removes", async () => {
    assert.equal(launcher.eraOf(modern)?.kind, "modern");
    assert.equal(launcher.eraOf(modernOnly)?.kind, "modern");
    assert.equal(launcher.eraOf(legacy)?.kind, "legacy");
    assert.ok(progress.includes("modern speaks 2026-07-28 (its containers get no initialize)"), progress.join("\n"));
    assert.ok(progress.includes("legacy speaks a 2025 revision (initialize)"), progress.join("\n"));
    const probes = launcher.eraProbes;
    assert.equal(probes, 3);
    await launcher.prepare(modern);
    assert.equal(launcher.eraProbes, probes, "a prepared version is not probed again");
    // Removal runs off the caller's path: wait for the probes' containers to go (nothing else was started).
    const deadline = Date.now() + 15_000;
    while ((await listOurContainers(OWNER)).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(await listOurContainers(OWNER), [], "the probes' containers are gone");
  });

  it("a 2026 per-call container is connected without initialize and answers its one call; a 2025 one is initialized", async () => {
    const lease = await launcher.acquire(modernOnly, { sessionId: "s1" });
    try {
      assert.equal(lease.client.era, "modern");
      // A --modern-only server refuses initialize: this answer proves none was sent.
      const result = await lease.run((client, signal) => toolCall(client, { name: "echo", arguments: { text: "hi" } }, { signal }));
      assert.equal(text(result), "hi");
    } finally {
      lease.release();
    }
    const old = await launcher.acquire(legacy, { sessionId: "s1" });
    try {
      assert.equal(old.client.era, "legacy");
    } finally {
      old.release();
    }
  });

  it("the warm pool keeps 2026 containers that answered a first request (their proof of life); the next call takes one", async () => {
    await launcher.waitWarm(modernOnly, 1);
    const lease = await launcher.acquire(modernOnly, { sessionId: "s2" });
    try {
      assert.equal(lease.timings.warm, true);
      assert.equal(lease.client.era, "modern");
      const result = await lease.run((client, signal) => toolCall(client, { name: "whoami", arguments: {} }, { signal }));
      assert.match(text(result), /^[0-9a-f]{12}$/);
    } finally {
      lease.release();
    }
  });

  it("an upstream answering -32022 loses its verdict: later containers are initialized (which negotiates)", async () => {
    const server = testServer("modern-heal", ociPackage(images.modern));
    await launcher.prepare(server);
    assert.equal(launcher.eraOf(server)?.kind, "modern");
    const lease = await launcher.acquire(server, { sessionId: "s3" });
    try {
      await assert.rejects(
        lease.run((client, signal) => toolCall(client, { name: "refuse_version", arguments: {} }, { signal })),
        (error: { code?: number }) => error.code === -32022,
      );
    } finally {
      lease.release();
    }
    assert.equal(launcher.eraOf(server), undefined);
    const next = await launcher.acquire(server, { sessionId: "s3" });
    try {
      assert.equal(next.client.era, "legacy");
      assert.equal(text(await next.run((client, signal) => toolCall(client, { name: "echo", arguments: { text: "again" } }, { signal }))), "again");
    } finally {
      next.release();
    }
  });
});

describeWhen(hasDocker, "the four era combinations through the daemon (real Docker engine)", { timeout: 300_000 }, () => {
  let d: TestDaemon;
  const sampling = { model: "test-model", role: "assistant" as const, content: { type: "text" as const, text: "Paris" } };

  before(async () => {
    const images = await ensureTestImages();
    await Promise.all((await listOurContainers(`${OWNER}-daemon`)).map((c) => docker.getContainer(c.Id).remove({ force: true })));
    const files = {
      "modern.yaml": toRegistryYaml(testServer("modern", ociPackage(images.modern)).entry),
      "everything.yaml": toRegistryYaml(testServer("everything", npmPackage("@modelcontextprotocol/server-everything")).entry),
    };
    d = await startTestDaemon(`${OWNER}-daemon`, files);
    assert.deepEqual(
      d.daemon.status().servers.map((s) => [s.prefix, s.reason]),
      [
        ["everything", "Applied"],
        ["modern", "Applied"],
      ],
    );
    assert.equal(d.launcher.eraOf(testServer("modern", ociPackage(images.modern)))?.kind, "modern");
    assert.equal(d.launcher.eraOf(testServer("everything", npmPackage("@modelcontextprotocol/server-everything")))?.kind, "legacy");
  });

  after(async () => {
    await d?.close();
  });

  async function modernClient(): Promise<{ client: ModernClient; asked: string[] }> {
    const asked: string[] = [];
    const client = new ModernClient({ name: "eras-2026", version: "1" }, { versionNegotiation: { mode: { pin: "2026-07-28" } }, capabilities: { sampling: {}, elicitation: {} } });
    client.setRequestHandler("elicitation/create", async () => {
      asked.push("elicitation");
      return { action: "accept", content: { name: "Ada", color: "teal" } };
    });
    client.setRequestHandler("sampling/createMessage", async () => {
      asked.push("sampling");
      return sampling;
    });
    await client.connect(new ModernHttp(new URL("mcp", d.http.url), { requestInit: { headers: { authorization: `Bearer ${d.key}` } } }));
    return { client, asked };
  }

  async function legacyClient(): Promise<{ client: Client; asked: string[] }> {
    const asked: string[] = [];
    const client = new Client({ name: "eras-2025", version: "1" }, { capabilities: { sampling: {}, elicitation: {} } });
    client.setRequestHandler(ElicitRequestSchema, async () => {
      asked.push("elicitation");
      return { action: "accept", content: { name: "Ada", color: "teal" } };
    });
    client.setRequestHandler(CreateMessageRequestSchema, async () => {
      asked.push("sampling");
      return sampling;
    });
    await client.connect(new StreamableHTTPClientTransport(new URL("mcp", d.http.url), { requestInit: { headers: { authorization: `Bearer ${d.key}` } } }));
    return { client, asked };
  }

  it("2026 client x 2026 upstream: the upstream's input_required rounds reach the client; each call is its own container", async () => {
    const { client, asked } = await modernClient();
    try {
      assert.equal(text(await client.callTool({ name: "modern__echo", arguments: { text: "both modern" } })), "both modern");
      const first = text(await client.callTool({ name: "modern__whoami", arguments: {} }));
      const second = text(await client.callTool({ name: "modern__whoami", arguments: {} }));
      assert.notEqual(first, second, "per-call: a fresh container each call");
      assert.match(text(await client.callTool({ name: "modern__ask_name", arguments: {} })), /^hello Ada from [0-9a-f]{12}$/);
      assert.equal(text(await client.callTool({ name: "modern__ask_model", arguments: {} })), "the model said Paris");
      assert.deepEqual(asked, ["elicitation", "sampling"]);
    } finally {
      await client.close();
    }
  });

  it("2025 client x 2026 upstream: the gateway asks through the session and retries upstream", async () => {
    const { client, asked } = await legacyClient();
    try {
      assert.equal(text(await client.callTool({ name: "modern__echo", arguments: { text: "old to new" } })), "old to new");
      assert.match(text(await client.callTool({ name: "modern__ask_name", arguments: {} })), /^hello Ada from /);
      assert.equal(text(await client.callTool({ name: "modern__ask_model", arguments: {} })), "the model said Paris");
      assert.deepEqual(asked, ["elicitation", "sampling"]);
    } finally {
      await client.close();
    }
  });

  it("2026 client x 2025 upstream: the container's mid-call questions become input_required rounds; the retry resumes the same call", async () => {
    const { client, asked } = await modernClient();
    try {
      assert.equal(text(await client.callTool({ name: "everything__echo", arguments: { message: "new to old" } })), "Echo: new to old");
      assert.match(JSON.stringify(await client.callTool({ name: "everything__trigger-sampling-request", arguments: { prompt: "capital?" } })), /Paris/);
      assert.match(JSON.stringify(await client.callTool({ name: "everything__trigger-elicitation-request", arguments: {} })), /accept/);
      assert.deepEqual(asked, ["sampling", "elicitation"]);
      assert.equal(d.daemon.runtime.gateway.rounds.pausedCount, 0, "no call is left waiting");
    } finally {
      await client.close();
    }
  });

  it("2025 client x 2025 upstream: as before", async () => {
    const { client, asked } = await legacyClient();
    try {
      assert.equal(text(await client.callTool({ name: "everything__echo", arguments: { message: "both old" } })), "Echo: both old");
      assert.match(JSON.stringify(await client.callTool({ name: "everything__trigger-sampling-request", arguments: { prompt: "capital?" } })), /Paris/);
      assert.deepEqual(asked, ["sampling"]);
    } finally {
      await client.close();
    }
  });
});
