/**
 * Launch benchmark with server-everything `echo` (see issue 3):
 *  (a) naive: `docker run -i --rm IMAGE` + SDK stdio client initialize + call + close (docker CLI)
 *  (b) ours, per-call, no pool: acquire (create+attach+start+initialize) + call; removal off-path
 *  (c) ours, per-call, warm pool: a fresh pre-initialized container per call
 *  (d) direct SDK stdio client to a local node process: spawn + initialize + call + close
 * plus fresh-container throughput at concurrency 4 with the pool vs the raw `docker run` rate.
 * Run alone: `npx tsx bench/launch.ts`.
 */
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import Docker from "dockerode";
import { pino } from "pino";
import { toolCall } from "../src/launch/call-tool.js";
import { DockerLauncher } from "../src/launch/docker/docker-launcher.js";
import { staticSecretSource } from "../src/secrets/secret-source.js";
import type { RegistryServer } from "../src/registry/types.js";
import { ensureTestImages, testDataDir } from "../test/support/docker.js";
import { npmPackage, testServer } from "../test/support/servers.js";
import { formatTable, percentile, type BenchRow } from "./bench-row.js";

export interface LaunchBenchOptions {
  iterations?: number;
  throughputCalls?: number;
  concurrency?: number;
  log?: (line: string) => void;
}

async function timeIt(n: number, fn: () => Promise<void>, between?: () => Promise<void>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    if (between) await between();
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return samples;
}

async function stdioEcho(command: string, args: string[], awaitClose = true): Promise<void> {
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(new StdioClientTransport({ command, args, stderr: "ignore" }));
  const result = await client.callTool({ name: "echo", arguments: { message: "bench" } });
  if (JSON.stringify(result).indexOf("Echo: bench") < 0) throw new Error(`unexpected result ${JSON.stringify(result)}`);
  const closing = client.close();
  if (awaitClose) await closing;
  else pendingCloses.push(closing);
}

const pendingCloses: Array<Promise<void>> = [];

async function oursEcho(launcher: DockerLauncher, server: RegistryServer): Promise<void> {
  const lease = await launcher.acquire(server, { sessionId: "bench" });
  try {
    const result = await lease.run((client) => toolCall(client, { name: "echo", arguments: { message: "bench" } }));
    if (JSON.stringify(result).indexOf("Echo: bench") < 0) throw new Error(`unexpected result ${JSON.stringify(result)}`);
  } finally {
    lease.release();
  }
}

async function concurrently(total: number, concurrency: number, fn: () => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next += 1;
        await fn();
      }
    }),
  );
  return (total / (performance.now() - t0)) * 1000;
}

function dockerRun(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => execFile("docker", args, (error) => (error ? reject(error) : resolve())));
}

export async function runLaunchBench(options: LaunchBenchOptions = {}): Promise<BenchRow[]> {
  const n = options.iterations ?? 10;
  const total = options.throughputCalls ?? 24;
  const concurrency = options.concurrency ?? 4;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const docker = new Docker();
  const images = await ensureTestImages();
  const server = testServer("everything", npmPackage("@modelcontextprotocol/server-everything"));
  const common = { docker, logger: pino({ level: "silent" }), secrets: staticSecretSource({}), dataDir: testDataDir(), owner: "bench", baseImages: { node: images.nodeBase } };
  const cold = await DockerLauncher.create({ ...common, pool: false });
  const warm = new DockerLauncher({ ...common, pool: { min: 1, max: concurrency } });
  try {
    await cold.prepare(server, log);
    await warm.prepare(server);
    const image = (await docker.listImages({ filters: JSON.stringify({ reference: ["mcp-router/pkg"] }) })).find((i) => i.RepoTags?.some((t) => t.startsWith("mcp-router/pkg:npm-")));
    const everythingImage = cold.preparedImage(server) ?? image?.RepoTags?.[0];
    if (!everythingImage) throw new Error("prepared image of server-everything not found");
    const entry = join(dirname(createRequire(import.meta.url).resolve("@modelcontextprotocol/server-everything/package.json")), "dist/index.js");

    await stdioEcho("docker", ["run", "-i", "--rm", everythingImage]); // warm the engine's caches
    log(`(a) naive docker run -i --rm x${n}`);
    const a = await timeIt(n, () => stdioEcho("docker", ["run", "-i", "--rm", everythingImage]));
    log(`(b) ours per-call, no pool x${n}`);
    const b = await timeIt(n, () => oursEcho(cold, server), () => new Promise((r) => setTimeout(r, 300)));
    log(`(c) ours per-call, warm pool x${n}`);
    await oursEcho(warm, server);
    const c = await timeIt(n, () => oursEcho(warm, server), () => warm.waitWarm(server, 1));
    // Back to back: the next call as soon as the last one returned, no waiting for the pool between calls.
    log(`(c') ours per-call, warm pool, back to back x${n * 2}`);
    await new Promise((r) => setTimeout(r, 1000));
    const backToBack = await timeIt(n * 2, () => oursEcho(warm, server));
    const spaced = await timeIt(n, () => oursEcho(warm, server), () => new Promise((r) => setTimeout(r, 300)));
    log(`(d) direct stdio to a local process x${n}`);
    const d = await timeIt(n, () => stdioEcho(process.execPath, [entry]), async () => {
      await Promise.all(pendingCloses.splice(0));
    });
    const dResult = await timeIt(n, () => stdioEcho(process.execPath, [entry], false), async () => {
      await Promise.all(pendingCloses.splice(0));
    });
    await Promise.all(pendingCloses.splice(0));

    log(`throughput: raw docker run --rm x${total} at concurrency ${concurrency}`);
    const rawRate = await concurrently(total, concurrency, () => dockerRun(["run", "--rm", "--entrypoint", "node", everythingImage, "-e", "0"]));
    log(`throughput: naive docker run -i --rm + init + echo x${total} at concurrency ${concurrency}`);
    const naiveRate = await concurrently(total, concurrency, () => stdioEcho("docker", ["run", "-i", "--rm", everythingImage]));
    log(`throughput: ours per-call with pool x${total} at concurrency ${concurrency}`);
    await warm.waitWarm(server, concurrency);
    const oursRate = await concurrently(total, concurrency, () => oursEcho(warm, server));
    const stats = warm.stats();

    const rows: BenchRow[] = [];
    const add = (label: string, samples: number[], ratioTo?: number[], maxRatioAtP50?: number): void => {
      for (const p of [50, 95]) {
        const value = percentile(samples, p);
        const row: BenchRow = { name: `launch ${label} p${p}`, value, unit: "ms" };
        if (ratioTo) {
          const base = percentile(ratioTo, p);
          row.baseline = { name: `(a) p${p}`, value: base };
          row.ratio = value / base;
          if (p === 50 && maxRatioAtP50 !== undefined) {
            row.target = `ratio <= ${maxRatioAtP50}`;
            row.ok = row.ratio <= maxRatioAtP50;
          }
        }
        rows.push(row);
      }
    };
    add("(a) naive docker run -i --rm + init + call + close", a);
    add("(b) per-call, no pool", b, a, 0.6);
    add("(c) per-call, warm pool", c, a, 0.05);
    add("(c') per-call, warm pool, calls back to back", backToBack, a);
    add("(c'') per-call, warm pool, calls 300 ms apart", spaced, a, 0.2);
    add("(d) local stdio process: spawn + init + call + close", d, a);
    add("(d') local stdio process: spawn + init + call (close off-path)", dResult, a);
    rows.push({
      name: `launch throughput, pool, concurrency ${concurrency}, vs raw docker run (node -e 0)`,
      value: oursRate,
      unit: "calls/s",
      baseline: { name: "raw docker run --rm rate", value: rawRate },
      ratio: oursRate / rawRate,
      target: "ratio >= 0.8",
      ok: oursRate / rawRate >= 0.8,
    });
    rows.push({
      name: `launch throughput, pool, concurrency ${concurrency}, vs naive docker run of the same server`,
      value: oursRate,
      unit: "calls/s",
      baseline: { name: "docker run -i --rm + init + echo rate", value: naiveRate },
      ratio: oursRate / naiveRate,
    });
    rows.push({ name: "pool hits / misses during the run", value: stats.poolHits, unit: `hits (${stats.poolMisses} misses)` });
    return rows;
  } finally {
    await warm.close();
    await cold.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(formatTable(await runLaunchBench()));
}
