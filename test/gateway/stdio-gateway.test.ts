/**
 * `mcp-router stdio` as Claude Desktop runs it: the real CLI as a child process, a registry
 * folder with server-everything and server-memory, catalogs discovered in containers at start-up,
 * calls in real containers. The protocol behaviour of
 * calls over stdio is tested in process in gateway-behaviour.test.ts.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, it } from "node:test";
import { fileURLToPath } from "node:url";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import Docker from "dockerode";
import { describeWhen, dockerAvailable, ensureTestImages, listOurContainers, testDataDir } from "../support/docker.js";
import type { TestClient } from "./fixture.js";
import { connectClient, containers, defineContainerCallTests, testServers, text, waitFor } from "./fixture.js";

const OWNER = "test-gateway-stdio";
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const hasDocker = await dockerAvailable();
if (!hasDocker && process.env.CI) throw new Error("Docker engine unavailable under CI: run .ci/docker-up.sh before the tests");

describeWhen(hasDocker, "gateway over stdio: the real CLI (real containers)", {}, () => {
  let registry: string;
  let dataDir: string;
  let c: TestClient;
  let transport: StdioClientTransport;
  let stderr = "";

  before(async () => {
    const images = await ensureTestImages();
    const docker = new Docker();
    await Promise.all((await listOurContainers(OWNER)).map((x) => docker.getContainer(x.Id).remove({ force: true })));
    registry = await mkdtemp(join(tmpdir(), "mcp-router-reg-"));
    await mkdir(join(registry, "servers"));
    for (const server of Object.values(testServers())) {
      // JSON is YAML: the entries the other tests build in memory, as registry files.
      await writeFile(join(registry, "servers", `${server.prefix}.yaml`), JSON.stringify(server.entry, null, 2));
    }
    // Prepared packages are shared with the other Docker tests; catalogs start empty, so the
    // gateway discovers them in the background after start-up.
    dataDir = await mkdtemp(join(tmpdir(), "mcp-router-stdio-data-"));
    const shared = testDataDir();
    transport = new StdioClientTransport({
      command: process.execPath,
      args: ["--import", "tsx", join(root, "src", "bin.ts"), "stdio", "--registry", registry, "--data-dir", shared, "--log-level", "info"],
      cwd: root,
      env: { ...(process.env as Record<string, string>), MCP_ROUTER_NODE_IMAGE: images.nodeBase, MCP_ROUTER_OWNER: OWNER, MCP_ROUTER_WARM_POOL: "off", MCP_ROUTER_DATA: dataDir },
      stderr: "pipe",
    });
    transport.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await rm(join(shared, "catalogs"), { recursive: true, force: true });
    c = await connectClient(transport);
    await waitFor(
      "both servers' tools after discovery",
      async () => {
        const { tools } = await c.client.listTools();
        return tools.some((t) => t.name === "everything__echo") && tools.some((t) => t.name === "memory__read_graph") ? true : undefined;
      },
      120_000,
    );
  });

  after(async () => {
    await c?.client.close();
    await waitFor("no container left", async () => ((await containers(OWNER)).length === 0 ? true : undefined), 15_000);
    await rm(registry, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  });

  it("discovers catalogs at start-up, logs progress to stderr", () => {
    // The first table waits for the first prepares (bounded by the prepare budget), so whether a
    // tools/list_changed follows depends on how fast discovery is: not asserted here. list_changed
    // over stdio after a registry change is tested in process (gateway-behaviour.test.ts).
    assert.match(stderr, /catalog discovered/);
    assert.match(stderr, /"server":"everything"/);
  });

  defineContainerCallTests("stdio", () => c, OWNER);

  it("stdout carries nothing but protocol (the SDK client would have failed to parse anything else)", async () => {
    const { tools } = await c.client.listTools();
    assert.ok(tools.length > 10);
    assert.equal(text(await c.client.callTool({ name: "everything__echo", arguments: { message: "stdio" } })), "Echo: stdio");
  });
});
