/**
 * The gateway in front of the conformance upstream, for the conformance runner: the daemon as
 * `serve` assembles it (startDaemon), following a registry with one remote server, `conformance`,
 * that points at `test/support/conformance-server.ts`; its per-server endpoint
 * (`/servers/conformance/mcp`) is what the suite talks to. Loopback only, no API key (auth off
 * is allowed on loopback), and an operator policy that allows the loopback upstream.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { startDaemon } from "../src/daemon/start-daemon.js";
import { RemoteLauncher } from "../src/launch/remote/remote-launcher.js";
import { DEFAULT_POLICY } from "../src/registry/policy.js";
import { staticSecretSource } from "../src/secrets/secret-source.js";

export interface GatewayInFront {
  /** The per-server endpoint fronting the upstream. */
  url: URL;
  close(): Promise<void>;
}

export async function startGatewayInFront(upstream: URL): Promise<GatewayInFront> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "mcp-router-conformance-"));
  await mkdir(path.join(dir, "registry", "servers"), { recursive: true });
  await writeFile(
    path.join(dir, "registry", "servers", "conformance.yaml"),
    `name: dev.mcp-router.test/conformance\ndescription: the conformance upstream, behind the gateway\nversion: 1.0.0\nremotes:\n  - type: streamable-http\n    url: ${upstream.href}\nrouter:\n  prefix: conformance\n`,
  );
  const secrets = staticSecretSource({});
  const daemon = await startDaemon({
    registry: { dir: path.join(dir, "registry") },
    dataDir: path.join(dir, "data"),
    secrets,
    policy: { ...DEFAULT_POLICY, network: { bridge: false, privateTargets: true } },
    log: { level: process.env.LOG_LEVEL ?? "silent" },
    http: { host: "127.0.0.1", port: 0, apiKeys: undefined },
    launcher: new RemoteLauncher({ secrets, logger: pino({ level: "silent" }) }),
  });
  await daemon.sync.started;
  const failed = daemon.status().servers.filter((s) => s.reason !== "Applied");
  if (failed.length) throw new Error(`the gateway did not apply the conformance upstream: ${JSON.stringify(failed)}`);
  return {
    url: new URL("servers/conformance/mcp", daemon.url),
    async close() {
      await daemon.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
