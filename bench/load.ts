/**
 * Load benchmark (issue 19, item 1), no Docker unless `--per-call`: mcp-router and the gateways
 * people would pick instead (mcp-hub, supergateway, mcp-proxy, from `bench/peers/`), side by side
 * in one run, in front of one fast echo upstream, loaded by the SDK's real clients on loopback.
 *
 * Every gateway, the upstream and the bench's clients are separate processes (no one shares an
 * event loop with the clients that load it). Per target: 1, 16 and 64 concurrent clients each
 * calling `echo` back to back for a window (throughput, p50/p95/p99), the targets taken in turn
 * at each concurrency (the order rotates, so none always runs first on this shared machine); then
 * every target at one steady rate, half of mcp-router's throughput at the highest concurrency
 * ("half of saturation"), for the p99 there. Ratios are against a direct client to the same
 * upstream measured in the same run. `loadFigures` turns the samples into the issue's figures.
 *
 * Flags (after `npm run bench -- load`): --seconds=N (window per row and round, default 2),
 * --rounds=N (windows per target and concurrency, taken in turn; default 3), --clients=1,16,64,
 * --peers=mcp-hub,supergateway,mcp-proxy (or --no-peers), --profile (every gateway's own process runs
 * with --cpu-prof; the profiles' folder is printed), --per-call (the Docker-backed per-call rows).
 * Run alone: `npx tsx bench/load.ts [flags]`.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { formatTable, type BenchRow } from "./bench-row.js";
import { closedLoop, connectCallers, emptySample, mergeSample, steadyRate, type Caller, type Sample } from "./load/drive.js";
import { formatLoadTables, loadFigures, type LoadResult } from "./load/load-figures.js";
import { ECHO_SERVER, PEER_NAMES, ensurePeersInstalled, startPeer, type PeerName, type Target } from "./load/peers.js";
import { cpuMs } from "./load/process-cpu.js";
import { readReadyLine, startChild } from "./load/processes.js";

const here = dirname(fileURLToPath(import.meta.url));
const WARMUP_MS = 1000;

export interface LoadOptions {
  seconds: number;
  rounds: number;
  clients: number[];
  peers: PeerName[];
  profile: boolean;
  perCall: boolean;
}

export function parseLoadFlags(argv: readonly string[]): LoadOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: false,
    options: { seconds: { type: "string" }, rounds: { type: "string" }, clients: { type: "string" }, peers: { type: "string" }, "no-peers": { type: "boolean" }, profile: { type: "boolean" }, "per-call": { type: "boolean" } },
  });
  const seconds = Number(values.seconds ?? 2);
  if (!(seconds > 0 && seconds <= 60)) throw new Error(`--seconds=${String(values.seconds)}: give a window of 0-60 seconds per row, e.g. --seconds=3`);
  const rounds = Number(values.rounds ?? 3);
  if (!(Number.isInteger(rounds) && rounds >= 1 && rounds <= 20)) throw new Error(`--rounds=${String(values.rounds)}: give 1-20 rounds, e.g. --rounds=3`);
  const clients = String(values.clients ?? "1,16,64").split(",").map(Number);
  if (clients.some((n) => !Number.isInteger(n) || n < 1 || n > 256)) throw new Error(`--clients=${String(values.clients)}: give concurrencies of 1-256, comma-separated, e.g. --clients=1,16,64`);
  const peers = values["no-peers"] ? [] : String(values.peers ?? PEER_NAMES.join(",")).split(",").filter(Boolean);
  const unknown = peers.filter((p) => !(PEER_NAMES as readonly string[]).includes(p));
  if (unknown.length) throw new Error(`--peers: unknown peer(s) ${unknown.join(", ")}; known: ${PEER_NAMES.join(", ")}`);
  return { seconds, rounds, clients: [...new Set(clients)].sort((a, b) => a - b), peers: peers as PeerName[], profile: values.profile === true, perCall: values["per-call"] === true };
}

export async function benchLoad(options: LoadOptions = parseLoadFlags(process.argv.slice(2)), print: (line: string) => void = (line) => console.error(line)): Promise<BenchRow[]> {
  const began = performance.now();
  const log = (line: string): void => print(`[${((performance.now() - began) / 1000).toFixed(0).padStart(3)} s] ${line}`);
  const stopping: Array<() => Promise<void>> = [];
  const maxClients = Math.max(...options.clients);
  const windowMs = options.seconds * 1000;
  try {
    const installFailure = options.peers.length ? await ensurePeersInstalled(log) : undefined;

    const upstream = startChild(process.execPath, [ECHO_SERVER, "--http"]);
    stopping.push(() => upstream.stop());
    const upstreamUrl = new URL((await readReadyLine(upstream, 30_000)).url);
    const upstreamPid = upstream.process.pid!;

    const profileDir = options.profile ? await mkdtemp(join(tmpdir(), "mcp-router-load-profile-")) : undefined;
    const profileFlags = (name: string): string[] => (profileDir ? ["--cpu-prof", `--cpu-prof-dir=${join(profileDir, name)}`] : []);
    const router = startChild(process.execPath, [...profileFlags("mcp-router"), "--import", "tsx", join(here, "load", "router-process.ts"), upstreamUrl.href]);
    stopping.push(() => router.stop());
    const routerUrl = new URL((await readReadyLine(router, 60_000)).url);

    const targets: Target[] = [
      {
        name: "direct (baseline)",
        setup: "the SDK client straight to the upstream (Streamable HTTP)",
        endpoint: { url: upstreamUrl, transport: "streamable-http", tool: "echo" },
        processes: () => ({ gateway: [], upstream: [upstreamPid] }),
      },
      {
        name: "mcp-router (remote upstream)",
        setup: "its own process (startDaemon as serve, auth off on loopback, metrics on) -> the HTTP upstream as a remote server, lifecycle shared",
        endpoint: { url: routerUrl, transport: "streamable-http", tool: "echo__echo" },
        processes: () => ({ gateway: [router.process.pid!], upstream: [upstreamPid] }),
      },
    ];
    for (const peer of options.peers) {
      if (installFailure) {
        targets.push({ name: peer, setup: "", failed: installFailure });
        continue;
      }
      log(`load: starting ${peer}...`);
      const started = await startPeer(peer, { url: upstreamUrl, pid: upstreamPid }, profileFlags(peer));
      stopping.push(() => started.close());
      targets.push(...started.targets);
    }

    const results: LoadResult[] = targets.map((target) => ({ target, byClients: new Map(), failed: target.failed }));
    const callers = new Map<LoadResult, Caller[]>();
    for (const result of results) {
      if (!result.target.endpoint) continue;
      log(`load: connecting ${maxClients} clients to ${result.target.name}...`);
      try {
        const connected = await connectCallers(result.target.endpoint, maxClients);
        callers.set(result, connected);
        stopping.push(async () => void (await Promise.all(connected.map((c) => c.close().catch(() => undefined)))));
        await closedLoop(connected, WARMUP_MS);
      } catch (error) {
        result.failed = `could not connect ${maxClients} clients: ${(error as Error).message}`;
      }
    }
    const live = results.filter((r) => callers.has(r));

    // Rounds: each target gets `rounds` windows per concurrency, the order rotating, so a burst of
    // someone else's work on this shared machine falls on every target rather than on one.
    for (const [level, clients] of options.clients.entries()) {
      log(`load: ${clients} concurrent client(s), ${options.rounds} rounds of ${options.seconds} s per target...`);
      for (let round = 0; round < options.rounds; round++) {
        for (let i = 0; i < live.length; i++) {
          const result = live[(i + level + round) % live.length]!;
          const sample = await withCpu(result.target, () => closedLoop(callers.get(result)!.slice(0, clients), windowMs));
          result.byClients.set(clients, mergeSample(result.byClients.get(clients) ?? emptySample(), sample));
        }
      }
    }

    const ours = results[1]!.byClients.get(maxClients);
    if (ours && ours.calls > 0) {
      const rate = ours.calls / ours.seconds / 2;
      log(`load: every target at ${rate.toFixed(0)} calls/s (half of mcp-router's throughput at ${maxClients} clients), ${options.rounds} rounds of ${options.seconds} s...`);
      for (let round = 0; round < options.rounds; round++) {
        for (let i = 0; i < live.length; i++) {
          const result = live[(i + round) % live.length]!;
          const sample = await withCpu(result.target, () => steadyRate(callers.get(result)!, rate, windowMs));
          result.steady = { rate, sample: mergeSample(result.steady?.sample ?? emptySample(), sample) };
        }
      }
    }

    console.log(formatLoadTables(results, { clients: options.clients, seconds: options.seconds, rounds: options.rounds }));
    if (profileDir) log(`load: each gateway's CPU profile goes to ${profileDir}/<name>/ when it stops`);
    const rows = loadFigures(results, maxClients);

    if (options.perCall) {
      const { benchPerCall } = await import("./load/per-call.js");
      rows.push(...(await benchPerCall({ seconds: options.seconds, log })));
    }
    return rows;
  } finally {
    for (const stop of stopping.reverse()) await stop().catch(() => undefined);
  }
}

/** Runs one window and adds the CPU time the bench's clients, the gateway and its upstream spent in it. */
async function withCpu(target: Target, run: () => Promise<Sample>): Promise<Sample> {
  const pids = target.processes?.() ?? { gateway: [], upstream: [] };
  const client0 = process.cpuUsage();
  const gateway0 = cpuMs(pids.gateway);
  const upstream0 = cpuMs(pids.upstream);
  const sample = await run();
  const client = process.cpuUsage(client0);
  sample.cpu = { client: (client.user + client.system) / 1000, gateway: cpuMs(pids.gateway) - gateway0, upstream: cpuMs(pids.upstream) - upstream0 };
  return sample;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(formatTable(await benchLoad()));
}
