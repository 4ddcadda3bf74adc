/**
 * mcp-router as the load bench runs it: its own process (as the peers are), the daemon assembled
 * by `startDaemon` as `serve` assembles it (HTTP on 127.0.0.1, metrics on, the Streamable HTTP
 * and SSE endpoints), fronting the bench's echo upstream as a remote server (`lifecycle: shared`:
 * one upstream session for every caller, as each peer keeps one connection to its upstream).
 * Without Docker: the launcher is the remote one alone, and the operator policy allows private
 * targets, since the upstream is on loopback (a default policy refuses it).
 * Auth is off (allowed on a loopback bind), as no peer checks a key either.
 * Prints `{"url": ...}` on stdout once the server is applied; exits when stdin closes.
 * Run: `node --import tsx bench/load/router-process.ts <upstream url>`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { startDaemon } from "../../src/daemon/start-daemon.js";
import { RemoteLauncher } from "../../src/launch/remote/remote-launcher.js";
import { DEFAULT_POLICY } from "../../src/registry/policy.js";
import type { RegistryFile, RegistryServer } from "../../src/registry/types.js";
import { staticSecretSource } from "../../src/secrets/secret-source.js";
import { writeRegistry } from "../../test/support/servers.js";

const upstream = process.argv[2];
if (!upstream || !URL.canParse(upstream)) {
  process.stderr.write("usage: router-process.ts <upstream url>\n");
  process.exit(2);
}

const entry: RegistryFile = {
  name: "dev.mcp-router.bench/echo",
  description: "the load bench's echo upstream",
  version: "1.0.0",
  remotes: [{ type: "streamable-http", url: upstream }],
  router: { prefix: "echo", lifecycle: "shared" },
};
const server: RegistryServer = { prefix: "echo", name: entry.name, file: "servers/echo.yaml", hash: "echo", entry };

const dir = await mkdtemp(join(tmpdir(), "mcp-router-bench-load-"));
await writeRegistry(join(dir, "registry"), [server]);
const daemon = await startDaemon({
  registry: { dir: join(dir, "registry") },
  dataDir: join(dir, "data"),
  secrets: staticSecretSource({}),
  policy: { ...DEFAULT_POLICY, network: { bridge: false, privateTargets: true } },
  log: { level: "silent" },
  http: { host: "127.0.0.1", port: 0, apiKeys: undefined },
  launcher: new RemoteLauncher({ logger: pino({ level: "silent" }), secrets: staticSecretSource({}) }),
});
await daemon.sync.started;
const notApplied = daemon.status().servers.filter((s) => s.reason !== "Applied");
if (notApplied.length) {
  process.stderr.write(`mcp-router: servers not applied: ${JSON.stringify(notApplied)}\n`);
  await daemon.close();
  process.exit(1);
}
process.stdout.write(`${JSON.stringify({ url: new URL("/mcp", daemon.url).href })}\n`);

const stop = async (): Promise<void> => {
  await daemon.close();
  await rm(dir, { recursive: true, force: true });
  process.exit(0);
};
process.stdin.on("end", () => void stop());
process.stdin.resume();
process.on("SIGTERM", () => void stop());
