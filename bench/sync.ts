/**
 * Sync figures: local file change -> new table live (p50), webhook -> live, and the incremental
 * reload of a 200-server registry where one file changed, against a full reload in the same run.
 */
import { execFile } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { pino } from "pino";
import { loadRegistry } from "../src/registry/loader.js";
import type { RegistryServer } from "../src/registry/types.js";
import { DirectorySource } from "../src/sync/directory-source.js";
import { GitSource } from "../src/sync/git-source.js";
import { createGithubWebhookHandler } from "../src/transports/github-webhook.js";
import { Reconciler } from "../src/sync/reconciler.js";
import { callContinuously, everythingYaml, startTestDaemon } from "../test/support/daemon.js";
import { percentile, type BenchRow } from "./bench-row.js";

const exec = promisify(execFile);
const logger = pino({ level: "silent" });

function serverYaml(prefix: string, version = "1.0.0"): string {
  return `name: io.github.acme/${prefix}\ndescription: The ${prefix} server\nversion: ${version}\npackages:\n  - registryType: npm\n    identifier: "@acme/${prefix}"\n    version: ${version}\n    transport:\n      type: stdio\n`;
}

export async function benchSync(): Promise<BenchRow[]> {
  const base = await mkdtemp(path.join(tmpdir(), "mcp-router-bench-sync-"));
  try {
    return [...(await localChange(base)), ...(await webhookAndIncremental(base)), ...(await reloadsUnderLoad())];
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

async function localChange(base: string): Promise<BenchRow[]> {
  const dir = path.join(base, "local");
  await mkdir(path.join(dir, "servers"), { recursive: true });
  for (let i = 0; i < 20; i++) await writeFile(path.join(dir, "servers", `s${i}.yaml`), serverYaml(`s${i}`));
  let onApply: ((version: string) => void) | undefined;
  const reconciler = new Reconciler({
    source: new DirectorySource({ dir }),
    load: (d) => loadRegistry(d),
    prepare: async () => {},
    apply: (servers) => onApply?.(servers.find((s) => s.prefix === "s0")?.entry.version ?? ""),
    logger,
  });
  await reconciler.start();
  const samples: number[] = [];
  try {
    for (let i = 1; i <= 25; i++) {
      const version = `1.0.${i}`;
      const live = new Promise<void>((resolve) => {
        onApply = (v) => v === version && resolve();
      });
      const t0 = performance.now();
      await writeFile(path.join(dir, "servers", "s0.yaml"), serverYaml("s0", version));
      await live;
      samples.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await reconciler.stop();
  }
  const p50 = percentile(samples, 50);
  return [
    { name: "sync: local file change -> table live, p50", value: p50, unit: "ms", target: "<= 300 ms", ok: p50 <= 300 },
    { name: "sync: local file change -> table live, p95", value: percentile(samples, 95), unit: "ms" },
  ];
}

async function webhookAndIncremental(base: string): Promise<BenchRow[]> {
  const bare = path.join(base, "remote.git");
  const work = path.join(base, "work");
  const git = (...args: string[]) => exec("git", args, { cwd: work });
  await exec("git", ["init", "-q", "--bare", "--initial-branch=main", bare]);
  await exec("git", ["clone", "-q", bare, work]);
  await git("config", "user.email", "bench@example.com");
  await git("config", "user.name", "bench");
  await mkdir(path.join(work, "servers"));
  for (let i = 0; i < 200; i++) await writeFile(path.join(work, "servers", `s${i}.yaml`), serverYaml(`s${i}`));
  const push = async (message: string) => {
    await git("add", "-A");
    await git("commit", "-qm", message);
    await git("push", "-q", "origin", "HEAD:main");
  };
  await push("200 servers");

  let prepared = 0;
  let onApply: ((servers: readonly RegistryServer[]) => void) | undefined;
  const reconciler = new Reconciler({
    source: new GitSource({ url: bare, branch: "main", dir: path.join(base, "daemon"), pollIntervalMs: 3_600_000 }),
    load: (d) => loadRegistry(d),
    prepare: async () => {
      prepared++;
    },
    apply: (servers) => onApply?.(servers),
    logger,
  });
  let t0 = performance.now();
  await reconciler.request("start");
  const full = performance.now() - t0;
  const preparedFull = prepared;

  const secret = "bench-secret";
  const handler = createGithubWebhookHandler({ secret, branch: "main", onPush: () => void reconciler.request("webhook") });
  const server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/github`;
  const webhookSamples: number[] = [];
  let incremental = Infinity;
  try {
    for (let i = 1; i <= 5; i++) {
      const version = `1.1.${i}`;
      await writeFile(path.join(work, "servers", "s7.yaml"), serverYaml("s7", version));
      await push(`bump s7 to ${version}`);
      const live = new Promise<void>((resolve) => {
        onApply = (servers) => servers.find((s) => s.prefix === "s7")?.entry.version === version && resolve();
      });
      const body = JSON.stringify({ ref: "refs/heads/main", after: "x" });
      const before = prepared;
      t0 = performance.now();
      await fetch(url, {
        method: "POST",
        body,
        headers: { "x-github-event": "push", "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}` },
      });
      await live;
      const ms = performance.now() - t0;
      webhookSamples.push(ms);
      incremental = Math.min(incremental, ms);
      if (prepared - before !== 1) throw new Error(`incremental reload prepared ${prepared - before} servers, not 1`);
    }
  } finally {
    server.close();
    await reconciler.stop();
  }
  const p50 = percentile(webhookSamples, 50);
  return [
    { name: "sync: webhook -> table live (200 servers), p50", value: p50, unit: "ms", target: "<= 1000 ms", ok: p50 <= 1000 },
    {
      name: "sync: reload, 1 of 200 files changed",
      value: incremental,
      unit: "ms",
      baseline: { name: `first full load (${preparedFull} prepared)`, value: full },
      ratio: incremental / full,
      target: "prepares only the changed server",
      ok: true,
    },
  ];
}

/** A client calls continuously through the gateway while its server's file changes 100 times. */
async function reloadsUnderLoad(reloads = 100): Promise<BenchRow[]> {
  const daemon = await startTestDaemon("bench-sync", { "everything.yaml": everythingYaml(0) });
  try {
    const client = await daemon.client("bench");
    // Calls with no reload, for the same time, as the baseline rate.
    const quiet = callContinuously(client);
    await new Promise((r) => setTimeout(r, 3_000));
    const calm = await quiet.stop();
    const calls = callContinuously(client);
    const t0 = performance.now();
    for (let i = 1; i <= reloads; i++) {
      await daemon.write("everything.yaml", everythingYaml(i));
      await new Promise((r) => setTimeout(r, 30));
    }
    const { ok, failures } = await calls.stop();
    const seconds = (performance.now() - t0) / 1000;
    await client.close();
    return [
      {
        name: `sync: failed calls across ${reloads} reloads (shared server replaced each time)`,
        value: failures.length,
        unit: `failed of ${ok + failures.length}`,
        baseline: { name: "calls/s without reloads", value: calm.ok / 3 },
        ratio: ok / seconds / (calm.ok / 3),
        target: "0 failed",
        ok: failures.length === 0,
      },
    ];
  } finally {
    await daemon.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { formatTable } = await import("./bench-row.js");
  console.log(formatTable(await benchSync()));
}
