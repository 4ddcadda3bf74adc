/**
 * The daemon as users run it, for tests and benchmarks: `startDaemon` (src/daemon), the same
 * assembly `mcp-router serve` uses, over a registry folder in a temp dir, with a DockerLauncher on
 * the locally built test images (or a launcher built around it). Used by the hot-reload and
 * reliability tests and the sync benchmark.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import Docker from "dockerode";
import { pino } from "pino";
import type { Daemon } from "../../src/daemon/start-daemon.js";
import { startDaemon } from "../../src/daemon/start-daemon.js";
import { DockerLauncher } from "../../src/launch/docker/docker-launcher.js";
import type { Launcher } from "../../src/launch/launcher.js";
import type { OperatorPolicy } from "../../src/registry/policy.js";
import { staticSecretSource } from "../../src/secrets/secret-source.js";
import type { SecretSource } from "../../src/secrets/secret-source.js";
import type { RegistrySync } from "../../src/sync/registry-sync.js";
import type { HttpGateway } from "../../src/transports/http-server.js";
import { ensureTestImages, testDataDir } from "./docker.js";
import { installedVersion } from "./servers.js";

export interface TestDaemon {
  dir: string;
  key: string;
  daemon: Daemon;
  launcher: DockerLauncher;
  sync: RegistrySync;
  http: HttpGateway;
  /** Rewrites a server file and resolves once the reconciler applied the new revision. */
  write(file: string, text: string, timeoutMs?: number): Promise<void>;
  /** A connected SDK client of the daemon's /mcp. */
  client(name?: string): Promise<Client>;
  close(): Promise<void>;
}

/** server-everything as a `shared` server with a static catalog; `n` changes its hash. */
export function everythingYaml(n: number): string {
  const version = installedVersion("@modelcontextprotocol/server-everything");
  return `name: io.github.modelcontextprotocol/server-everything
description: Reference server, reload ${n}
version: ${version}
packages:
  - registryType: npm
    identifier: "@modelcontextprotocol/server-everything"
    version: ${version}
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

export interface TestDaemonOptions {
  /** The launcher the daemon serves with, built around the Docker one (e.g. a CompositeLauncher); it must close the Docker one. */
  wrapLauncher?: (docker: DockerLauncher) => Launcher;
  /** The daemon's secret store, which decides what files are granted (default: empty). */
  secrets?: SecretSource;
  /** The operator policy (default: the strictest). */
  policy?: OperatorPolicy;
}

export async function startTestDaemon(owner: string, files: Record<string, string>, options: TestDaemonOptions = {}): Promise<TestDaemon> {
  const images = await ensureTestImages();
  const dir = await mkdtemp(path.join(tmpdir(), "mcp-router-daemon-"));
  const servers = path.join(dir, "registry", "servers");
  await mkdir(servers, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(servers, name), text);
  const key = `test-key-${owner}`;
  const launcher = await DockerLauncher.create({ docker: new Docker(), logger: pino({ level: "silent" }), secrets: staticSecretSource({}), dataDir: testDataDir(), owner, baseImages: { node: images.nodeBase }, pool: false });
  const daemon = await startDaemon({
    registry: { dir: path.join(dir, "registry") },
    dataDir: path.join(dir, "data"),
    secrets: options.secrets ?? staticSecretSource({}),
    ...(options.policy ? { policy: options.policy } : {}),
    log: { level: "silent" },
    http: { host: "127.0.0.1", port: 0, apiKeys: [key] },
    launcher: options.wrapLauncher ? options.wrapLauncher(launcher) : launcher,
  });
  await daemon.sync.started;
  const { sync, http } = daemon;
  return {
    dir,
    key,
    daemon,
    launcher,
    sync,
    http: http!,
    async write(file, text, timeoutMs = 10_000) {
      const previous = sync.status().lastAppliedRevision;
      await writeFile(path.join(servers, file), text);
      const deadline = Date.now() + timeoutMs;
      while (sync.status().lastAppliedRevision === previous) {
        if (Date.now() > deadline) throw new Error(`the change to ${file} was not applied within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async client(name = "test-client") {
      const client = new Client({ name, version: "1.0.0" });
      await client.connect(new StreamableHTTPClientTransport(new URL("mcp", http!.url), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
      return client;
    },
    async close() {
      await daemon.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Calls `everything__echo` in a loop until `stop()`; counts successes and failures. */
export function callContinuously(client: Client): { stop(): Promise<{ ok: number; failures: string[] }> } {
  let done = false;
  let ok = 0;
  const failures: string[] = [];
  const loop = (async () => {
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
  return {
    async stop() {
      done = true;
      await loop;
      return { ok, failures };
    },
  };
}
