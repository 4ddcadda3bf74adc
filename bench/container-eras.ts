/**
 * Per-call containers in either protocol era (issue 15): the same SDK v2 stdio server
 * (test/support/modern-stdio-server.ts, which serves both eras) as two server versions, one the
 * launcher probed as 2026-07-28 (its containers are connected from the kept `server/discover`
 * answer: the call is the first message) and one pinned to the 2025 path (`initialize` first), so
 * the only difference between the rows is the era. Calls alternate between the two in the same
 * run: without the warm pool (container start on the call's path) and with it (300 ms apart, the
 * pool refilled in between).
 * Run alone: `npx tsx bench/container-eras.ts [calls]` (default 20 per row).
 */
import { pathToFileURL } from "node:url";
import Docker from "dockerode";
import { pino } from "pino";
import { toolCall } from "../src/launch/call-tool.js";
import { DockerLauncher } from "../src/launch/docker/docker-launcher.js";
import type { RegistryServer } from "../src/registry/types.js";
import { staticSecretSource } from "../src/secrets/secret-source.js";
import { ensureTestImages, testDataDir } from "../test/support/docker.js";
import { ociPackage, testServer } from "../test/support/servers.js";
import { formatTable, percentile, type BenchRow } from "./bench-row.js";

/** The target: a 2026 per-call upstream without pool at least 30% faster than a 2025 one. */
const TARGET_RATIO = 0.7;

async function echo(launcher: DockerLauncher, server: RegistryServer): Promise<number> {
  const t0 = performance.now();
  const lease = await launcher.acquire(server, { sessionId: "bench" });
  try {
    const result = await lease.run((client, signal) => toolCall(client, { name: "echo", arguments: { text: "bench" } }, { signal }));
    if (JSON.stringify(result).indexOf("bench") < 0) throw new Error(`unexpected result ${JSON.stringify(result)}`);
  } finally {
    lease.release();
  }
  return performance.now() - t0;
}

/** `n` calls to each server, alternating, `pauseMs` before each. */
async function alternate(launcher: DockerLauncher, servers: readonly [RegistryServer, RegistryServer], n: number, pauseMs: number): Promise<[number[], number[]]> {
  const samples: [number[], number[]] = [[], []];
  for (let i = 0; i < n; i++) {
    for (const k of [0, 1] as const) {
      await new Promise((r) => setTimeout(r, pauseMs));
      samples[k].push(await echo(launcher, servers[k]));
    }
  }
  return samples;
}

function rows(label: string, modern: number[], legacy: number[], target?: number): BenchRow[] {
  const out: BenchRow[] = [];
  for (const p of [50, 95]) {
    const value = percentile(modern, p);
    const base = percentile(legacy, p);
    const ratio = value / base;
    out.push({
      name: `container eras: per-call ${label}, 2026-07-28 (no initialize), p${p} (${modern.length} calls)`,
      value,
      unit: "ms",
      baseline: { name: `same server, 2025 path (initialize) p${p}`, value: base },
      ratio,
      ...(target !== undefined && p === 50 ? { target: `ratio <= ${target}`, ok: ratio <= target } : {}),
    });
  }
  return out;
}

export async function benchContainerEras(calls = 20, log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<BenchRow[]> {
  const images = await ensureTestImages();
  const common = { docker: new Docker(), logger: pino({ level: "silent" }), secrets: staticSecretSource({}), dataDir: testDataDir(), owner: "bench-eras", baseImages: { node: images.nodeBase } };
  const modern = testServer("modern", ociPackage(images.modern));
  const legacy = testServer("legacy", ociPackage(images.modern));
  const out: BenchRow[] = [];
  for (const pool of [false, true] as const) {
    const launcher = await DockerLauncher.create({ ...common, pool: pool ? { min: 1, max: 1 } : false });
    try {
      // The 2025 row's verdict is set before prepare, so it is never probed: every container is initialized.
      launcher.adoptEra(legacy, { kind: "legacy" });
      await launcher.prepare(modern, log);
      await launcher.prepare(legacy);
      if (launcher.eraOf(modern)?.kind !== "modern") throw new Error("the modern test server was not probed as 2026-07-28");
      await alternate(launcher, [modern, legacy], 2, 300); // warm the engine and the image caches
      log(`container eras: ${calls} calls each, ${pool ? "warm pool, 300 ms apart" : "no pool"}`);
      const [m, l] = await alternate(launcher, [modern, legacy], calls, 300);
      out.push(...rows(pool ? "warm pool" : "no pool", m, l, pool ? undefined : TARGET_RATIO));
    } finally {
      await launcher.close();
    }
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const calls = Number(process.argv[2] ?? 20);
  console.log(formatTable(await benchContainerEras(calls)));
}
