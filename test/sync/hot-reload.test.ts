/**
 * The daemon's whole reload path with real parts: a watched registry directory, the reconciler,
 * the gateway over Streamable HTTP, and server-everything in a container. A client calls
 * continuously while the server's own file changes 50 times: no call fails, the shared container
 * is drained and replaced, and the client is told the tool list changed.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import Docker from "dockerode";
import { pino } from "pino";
import { startGatewayRuntime, type GatewayRuntime } from "../../src/gateway/gateway-runtime.js";
import { startHttpGateway, type HttpGateway } from "../../src/gateway/http-gateway.js";
import { DockerLauncher } from "../../src/launch/docker-launcher.js";
import { staticSecretSource } from "../../src/launch/secrets.js";
import { startRegistrySync, type RegistrySync } from "../../src/sync/registry-sync.js";
import { dockerAvailable, ensureTestImages, listOurContainers, testDataDir } from "../support/docker.js";
import { installedVersion } from "../support/servers.js";

const OWNER = "test-hot-reload";
const KEY = "test-key-hot-reload";
const VERSION = installedVersion("@modelcontextprotocol/server-everything");

function everythingYaml(n: number): string {
  return `name: io.github.modelcontextprotocol/server-everything
description: Reference server, reload ${n}
version: ${VERSION}
packages:
  - registryType: npm
    identifier: "@modelcontextprotocol/server-everything"
    version: ${VERSION}
    transport:
      type: stdio
router:
  prefix: everything
  lifecycle: shared
  tools:
    - name: echo
      description: Echoes back the input (reload ${n})
      inputSchema:
        type: object
        properties:
          message: {type: string}
        required: [message]
`;
}

describe("hot reload under load", { timeout: 300_000 }, () => {
  let dir: string;
  let launcher: DockerLauncher | undefined;
  let runtime: GatewayRuntime;
  let sync: RegistrySync;
  let http: HttpGateway;

  before(async () => {
    if (!(await dockerAvailable())) {
      if (process.env.CI) throw new Error("Docker engine unavailable under CI: run .ci/docker-up.sh before the tests");
      return;
    }
    const images = await ensureTestImages();
    dir = await mkdtemp(path.join(tmpdir(), "mcp-router-hot-"));
    await mkdir(path.join(dir, "registry", "servers"), { recursive: true });
    await writeFile(path.join(dir, "registry", "servers", "everything.yaml"), everythingYaml(0));
    const logger = pino({ level: "silent" });
    const l = await DockerLauncher.create({ docker: new Docker(), logger, secrets: staticSecretSource({}), dataDir: testDataDir(), owner: OWNER, baseImages: { node: images.nodeBase }, pool: false });
    launcher = l;
    runtime = await startGatewayRuntime({ servers: [], launcher: l, dataDir: path.join(dir, "data"), logger, discover: false });
    sync = startRegistrySync({
      registry: path.join(dir, "registry"),
      branch: "main",
      pollSeconds: 30,
      dataDir: path.join(dir, "data"),
      logger,
      prepare: async (server) => {
        await l.prepare(server);
        await runtime.ensureCatalog(server);
      },
      apply: (servers) => runtime.apply(servers),
      retire: (server) => l.retire(server),
    });
    http = await startHttpGateway({
      gateway: runtime.gateway,
      logger,
      host: "127.0.0.1",
      port: 0,
      apiKeys: [KEY],
      routes: sync.routes,
      readiness: () => ({ ready: sync.status().ready }),
    });
    await sync.started;
  });

  after(async () => {
    await sync?.stop();
    await http?.close();
    await runtime?.gateway.close();
    await launcher?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    if (launcher) assert.deepEqual(await listOurContainers(OWNER), [], "no container of ours is left");
  });

  it("is ready, and GET /status needs the key", async (t) => {
    if (!launcher) return t.skip("no Docker engine; skipped outside CI");
    assert.equal((await fetch(new URL("readyz", http.url))).status, 200);
    assert.equal((await fetch(new URL("status", http.url))).status, 401);
    const status = (await (await fetch(new URL("status", http.url), { headers: { authorization: `Bearer ${KEY}` } })).json()) as { ready: boolean; servers: { prefix: string; reason: string }[] };
    assert.equal(status.ready, true);
    assert.deepEqual(status.servers.map((s: { prefix: string; reason: string }) => [s.prefix, s.reason]), [["everything", "Applied"]]);
  });

  it("a client calling continuously through 50 reloads sees no failed call, and gets tools/list_changed", async (t) => {
    if (!launcher) return t.skip("no Docker engine; skipped outside CI");
    const client = new Client({ name: "hot-reload-test", version: "1.0.0" });
    let listChanged = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      listChanged++;
    });
    await client.connect(new StreamableHTTPClientTransport(new URL("mcp", http.url), { requestInit: { headers: { authorization: `Bearer ${KEY}` } } }));
    const before = launcher.stats().started;

    let done = false;
    let ok = 0;
    const failures: string[] = [];
    const caller = (async () => {
      while (!done) {
        try {
          const result = await client.callTool({ name: "everything__echo", arguments: { message: `call ${ok}` } });
          if (result.isError) failures.push(JSON.stringify(result.content));
          else ok++;
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    })();

    const reloads = 50;
    for (let i = 1; i <= reloads; i++) {
      const previous = sync.status().lastAppliedRevision;
      await writeFile(path.join(dir, "registry", "servers", "everything.yaml"), everythingYaml(i));
      const deadline = Date.now() + 10_000;
      while (sync.status().lastAppliedRevision === previous) {
        if (Date.now() > deadline) assert.fail(`reload ${i} was not applied within 10 s`);
        await new Promise((r) => setTimeout(r, 10));
      }
      await new Promise((r) => setTimeout(r, 60));
    }
    done = true;
    await caller;
    const { tools } = await client.listTools();
    await client.close();

    assert.deepEqual(failures, [], `${failures.length} failed call(s) during ${reloads} reloads`);
    // Every reload replaces the shared container, so calls wait for new ones: few, but none lost.
    assert.ok(ok >= 5, `only ${ok} calls completed during the reloads`);
    assert.ok(listChanged >= 1, "the client was told the tool list changed");
    assert.match(tools.find((x) => x.name === "everything__echo")?.description ?? "", /reload 50/);
    assert.ok(launcher.stats().started > before, "changed shared servers were replaced by new containers");
    assert.ok(sync.status().reconciles >= reloads);
  });
});
