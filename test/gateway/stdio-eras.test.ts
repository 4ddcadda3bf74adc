/**
 * Stdio upstreams of either era (no Docker): the InProcessLauncher mirrors the container path, with
 * a 2026 SDK v2 server served as a stdio server is (`serveStdio` on a linked in-memory pair). The
 * era is probed once at prepare and kept with the catalog; every later start connects from it, so
 * a per-call instance's first message is the call itself (no initialize), and a restart adopts the
 * kept era from the catalog on disk (no probe). What the upstream receives is recorded per instance.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpServer } from "@modelcontextprotocol/server";
import type { Daemon } from "../../src/daemon/start-daemon.js";
import { startDaemon } from "../../src/daemon/start-daemon.js";
import { staticSecretSource } from "../../src/secrets/secret-source.js";
import type { Package } from "../../src/registry/types.js";
import { InProcessLauncher } from "../support/in-process-launcher.js";
import type { UpstreamFactory } from "../support/in-process-launcher.js";
import { PROBE_PACKAGE, probePackage, probeUpstream } from "../support/in-process-servers.js";
import { testServer, writeRegistry } from "../support/servers.js";

const MODERN_PACKAGE = "@mcp-router-test/modern-stdio";

function modernPackage(): Package {
  return { registryType: "npm", identifier: MODERN_PACKAGE, version: "1.0.0", transport: { type: "stdio" } };
}

/** A 2026 stdio server (it serves 2025 openings too): one `shout` tool. Each instance's received methods go to `seen`. */
function modernUpstream(seen: string[][]): UpstreamFactory {
  return () => {
    const mine: string[] = [];
    seen.push(mine);
    return {
      stdio: () => {
        const server = new McpServer({ name: "modern-stdio", version: "1.0.0" }, { capabilities: { tools: {} } });
        server.registerTool("shout", { description: "Answers in capitals" }, async () => ({ content: [{ type: "text", text: "HELLO" }] }));
        return server;
      },
      onMessage: (message) => mine.push("method" in message ? message.method : "(response)"),
    };
  };
}

interface Started {
  daemon: Daemon;
  launcher: InProcessLauncher;
  seen: string[][];
}

async function start(dir: string, probeEras: boolean): Promise<Started> {
  const seen: string[][] = [];
  const launcher = new InProcessLauncher({ upstreams: { [MODERN_PACKAGE]: modernUpstream(seen), [PROBE_PACKAGE]: probeUpstream() }, probeEras });
  const daemon = await startDaemon({
    registry: { dir: join(dir, "registry") },
    dataDir: join(dir, "data"),
    secrets: staticSecretSource({}),
    log: { level: "silent" },
    http: { host: "127.0.0.1", port: 0, apiKeys: undefined },
    launcher,
  });
  await daemon.sync.started;
  assert.deepEqual(
    daemon.status().servers.map((s) => s.reason),
    ["Applied", "Applied"],
  );
  return { daemon, launcher, seen };
}

/** Calls `modern__shout` `n` times as a 2025 client of the daemon; returns the instances started for them. */
async function shout(started: Started, n: number): Promise<string[][]> {
  const from = started.seen.length;
  const client = new Client({ name: "legacy-caller", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(new URL("mcp", started.daemon.url)));
  try {
    const tools = await client.listTools();
    assert.ok(tools.tools.some((t) => t.name === "modern__shout"), JSON.stringify(tools.tools.map((t) => t.name)));
    for (let i = 0; i < n; i++) {
      const result = await client.callTool({ name: "modern__shout", arguments: {} });
      assert.deepEqual(result.content, [{ type: "text", text: "HELLO" }]);
    }
  } finally {
    await client.close();
  }
  return started.seen.slice(from);
}

describe("stdio upstreams of either era (in process)", () => {
  let dir: string;
  let fresh: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "mcp-router-stdio-eras-"));
    fresh = await mkdtemp(join(tmpdir(), "mcp-router-stdio-eras-default-"));
    for (const root of [dir, fresh]) await writeRegistry(join(root, "registry"), [testServer("modern", modernPackage()), testServer("legacy", probePackage())]);
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    if (fresh) await rm(fresh, { recursive: true, force: true });
  });

  it("probes each version once at prepare, keeps the verdict in its catalog, and a per-call instance's first message is the call", async () => {
    const started = await start(dir, true);
    try {
      assert.equal(started.launcher.probes, 2, "one throwaway instance per server version");
      const modern = testServer("modern", modernPackage());
      assert.equal(started.launcher.eraOf(modern)?.kind, "modern");
      assert.equal(started.launcher.eraOf(testServer("legacy", probePackage()))?.kind, "legacy", "a 2025 server answers the probe with initialize");
      const catalogs = await readdir(join(dir, "data", "catalogs"));
      const kept = await Promise.all(catalogs.map(async (f) => JSON.parse(await readFile(join(dir, "data", "catalogs", f), "utf8")) as { hash: string; era?: { kind: string } }));
      assert.deepEqual(kept.map((c) => c.era?.kind).sort(), ["legacy", "modern"]);
      // The probe's instance: server/discover, answered; nothing else reached it.
      assert.deepEqual(started.seen[0], ["server/discover"]);

      const calls = await shout(started, 3);
      assert.equal(calls.length, 3, "per-call: one instance per call");
      for (const messages of calls) assert.deepEqual(messages, ["tools/call"], "no initialize, no probe: the call is the first and only message");
    } finally {
      await started.daemon.close();
    }
  });

  it("after a restart, the era kept in the catalog on disk is adopted: no probe, still no initialize", async () => {
    const started = await start(dir, true);
    try {
      assert.equal(started.launcher.probes, 0, "both versions' eras came from their catalogs");
      assert.equal(started.seen.length, 0, "nothing started to prepare them");
      const calls = await shout(started, 1);
      assert.deepEqual(calls, [["tools/call"]]);
    } finally {
      await started.daemon.close();
    }
  });

  it("with no verdict (no probe, no kept era), an instance is initialized as a 2025 one: the default", async () => {
    const started = await start(fresh, false);
    try {
      assert.equal(started.launcher.probes, 0);
      assert.equal(started.launcher.eraOf(testServer("modern", modernPackage())), undefined);
      const calls = await shout(started, 1);
      assert.deepEqual(calls, [["initialize", "notifications/initialized", "tools/call"]]);
    } finally {
      await started.daemon.close();
    }
  });

  it("a launcher given a kept era connects from it without asking anything", async () => {
    const seen: string[][] = [];
    const launcher = new InProcessLauncher({ upstreams: { [MODERN_PACKAGE]: modernUpstream(seen) }, probeEras: true });
    const server = testServer("modern", modernPackage());
    try {
      await launcher.prepare(server);
      const era = launcher.eraOf(server);
      assert.equal(era?.kind, "modern");
      const other = new InProcessLauncher({ upstreams: { [MODERN_PACKAGE]: modernUpstream(seen) }, probeEras: true });
      other.adoptEra(server, era!);
      await other.prepare(server);
      assert.equal(other.probes, 0);
      const lease = await other.acquire(server, { sessionId: "s" });
      assert.equal(lease.client.era, "modern");
      lease.release();
      await other.close();
      assert.deepEqual(seen.at(-1), [], "connecting sent nothing");
    } finally {
      await launcher.close();
    }
  });
});
