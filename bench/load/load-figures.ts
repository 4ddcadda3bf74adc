/**
 * The load bench's samples as figures: the side-by-side tables (every target, every concurrency,
 * ratios to the direct client of the same run) and the issue's figures as bench rows:
 *  - mcp-router's throughput at the highest concurrency >= 0.8x the direct client's;
 *  - mcp-router's p99 overhead (its p99 - direct p99) <= 2 ms at half of saturation;
 *  - ahead of every peer on every row: throughput at each concurrency (ours / peer > 1), and a
 *    lower overhead at one client (p50 - direct p50), at half of saturation (p99 - direct p99), and in
 *    the gateway process's own CPU time per call (read from /proc: the least noisy figure here).
 */
import { percentile, type BenchRow } from "../bench-row.js";
import type { Sample } from "./drive.js";
import type { Target } from "./peers.js";

export interface LoadResult {
  target: Target;
  /** Closed-loop samples by concurrency. */
  byClients: Map<number, Sample>;
  /** The open-loop sample at half of mcp-router's saturation. */
  steady?: { rate: number; sample: Sample };
  /** Why this target has no figures (did not install, start or connect). */
  failed?: string | undefined;
}

/** Throughput target: mcp-router at the highest concurrency vs the direct client. */
const THROUGHPUT_RATIO = 0.8;
/** p99 overhead target at half of saturation, ms. */
const P99_OVERHEAD_MS = 2;

const rate = (s: Sample): number => s.calls / s.seconds;
const fmt = (n: number): string => (!Number.isFinite(n) ? "-" : Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2));

/** CPU milliseconds per answered call of one side, or NaN when not measured. */
export const cpuPerCall = (s: Sample | undefined, side: "client" | "gateway" | "upstream"): number => (s?.cpu && s.calls > 0 ? s.cpu[side] / s.calls : NaN);

export function formatLoadTables(results: readonly LoadResult[], options: { clients: readonly number[]; seconds: number; rounds: number }): string {
  const direct = results[0]!;
  const table = [["target", "clients", "calls/s", "x direct", "p50 ms", "p95 ms", "p99 ms", "p99 x direct", "CPU ms/call: gateway", "upstream", "clients", "errors"]];
  for (const clients of options.clients) {
    const base = direct.byClients.get(clients);
    for (const r of results) {
      const s = r.byClients.get(clients);
      if (!s) continue;
      table.push([
        r.target.name,
        String(clients),
        fmt(rate(s)),
        base ? fmt(rate(s) / rate(base)) : "-",
        fmt(percentile(s.latencies, 50)),
        fmt(percentile(s.latencies, 95)),
        fmt(percentile(s.latencies, 99)),
        base ? fmt(percentile(s.latencies, 99) / percentile(base.latencies, 99)) : "-",
        fmt(cpuPerCall(s, "gateway")),
        fmt(cpuPerCall(s, "upstream")),
        fmt(cpuPerCall(s, "client")),
        s.errors ? `${s.errors} (${s.firstError ?? ""})` : "0",
      ]);
    }
  }
  const steady = [["target", "rate calls/s", "achieved", "p50 ms", "p99 ms", "p99 - direct p99 ms", "CPU ms/call: gateway", "upstream", "errors"]];
  const directP99 = direct.steady ? percentile(direct.steady.sample.latencies, 99) : NaN;
  for (const r of results) {
    if (!r.steady) continue;
    const s = r.steady.sample;
    steady.push([r.target.name, fmt(r.steady.rate), fmt(rate(s)), fmt(percentile(s.latencies, 50)), fmt(percentile(s.latencies, 99)), fmt(percentile(s.latencies, 99) - directP99), fmt(cpuPerCall(s, "gateway")), fmt(cpuPerCall(s, "upstream")), s.errors ? `${s.errors} (${s.firstError ?? ""})` : "0"]);
  }
  const setups = results.map((r) => `  ${r.target.name}: ${r.target.setup}${r.failed ? `\n    NOT MEASURED: ${r.failed}` : ""}`);
  return [
    `load: closed loop, each client calling echo back to back; ${options.rounds} rounds of ${options.seconds} s per row, targets in turn`,
    columns(table),
    "",
    `load: steady rate (open loop: latency from when each call was due), ${options.rounds} rounds of ${options.seconds} s per row`,
    columns(steady),
    "",
    "load: the targets",
    ...setups,
    "",
  ].join("\n");
}

export function loadFigures(results: readonly LoadResult[], maxClients: number): BenchRow[] {
  const [direct, ours, ...peers] = results;
  const rows: BenchRow[] = [];
  if (!direct || !ours) return rows;
  const at = (r: LoadResult, clients: number): Sample | undefined => r.byClients.get(clients);
  const oursMax = at(ours, maxClients);
  const directMax = at(direct, maxClients);
  if (oursMax && directMax) {
    const ratio = rate(oursMax) / rate(directMax);
    rows.push({ name: `load: mcp-router throughput, ${maxClients} clients`, value: rate(oursMax), unit: "calls/s", baseline: { name: "direct client", value: rate(directMax) }, ratio, target: `ratio >= ${THROUGHPUT_RATIO}`, ok: ratio >= THROUGHPUT_RATIO });
  } else {
    rows.push({ name: `load: mcp-router throughput, ${maxClients} clients: not measured (${ours.failed ?? direct.failed ?? "no sample"})`, value: NaN, unit: "", target: `ratio >= ${THROUGHPUT_RATIO}`, ok: false });
  }
  const overhead = (r: LoadResult): number => (r.steady && direct.steady ? percentile(r.steady.sample.latencies, 99) - percentile(direct.steady.sample.latencies, 99) : NaN);
  const oneClient = (r: LoadResult): number => {
    const s = at(r, 1);
    const d = at(direct, 1);
    return s && d ? percentile(s.latencies, 50) - percentile(d.latencies, 50) : NaN;
  };
  if (ours.steady && direct.steady) {
    const value = overhead(ours);
    rows.push({
      name: `load: mcp-router p99 overhead at half of saturation (${fmt(ours.steady.rate)} calls/s)`,
      value,
      unit: "ms",
      baseline: { name: "direct p99", value: percentile(direct.steady.sample.latencies, 99) },
      target: `<= +${P99_OVERHEAD_MS} ms`,
      ok: value <= P99_OVERHEAD_MS,
    });
  }
  for (const peer of peers) {
    if (peer.failed) {
      rows.push({ name: `load: vs ${peer.target.name}: not measured (${peer.failed.slice(0, 160)})`, value: NaN, unit: "" });
      continue;
    }
    for (const [clients, sample] of peer.byClients) {
      const mine = at(ours, clients);
      if (!mine) continue;
      const ratio = rate(mine) / rate(sample);
      rows.push({ name: `load: throughput vs ${peer.target.name}, ${clients} clients`, value: rate(mine), unit: "calls/s", baseline: { name: "peer", value: rate(sample) }, ratio, target: "ratio > 1 (ahead)", ok: ratio > 1 });
    }
    const mine1 = oneClient(ours);
    const theirs1 = oneClient(peer);
    if (Number.isFinite(mine1) && Number.isFinite(theirs1)) {
      rows.push({ name: `load: overhead p50 at 1 client vs ${peer.target.name}`, value: mine1, unit: "ms", baseline: { name: "peer", value: theirs1 }, target: "lower", ok: mine1 < theirs1 });
    }
    const mineCpu = cpuPerCall(at(ours, maxClients), "gateway");
    const theirCpu = cpuPerCall(at(peer, maxClients), "gateway");
    if (Number.isFinite(mineCpu) && Number.isFinite(theirCpu)) {
      rows.push({ name: `load: gateway CPU per call at ${maxClients} clients vs ${peer.target.name}`, value: mineCpu, unit: "ms", baseline: { name: "peer", value: theirCpu }, ratio: mineCpu / theirCpu, target: "lower", ok: mineCpu < theirCpu });
    }
    if (peer.steady && ours.steady) {
      rows.push({ name: `load: p99 overhead at half of saturation vs ${peer.target.name}`, value: overhead(ours), unit: "ms", baseline: { name: "peer", value: overhead(peer) }, target: "lower", ok: overhead(ours) < overhead(peer) });
    }
  }
  return rows;
}

function columns(table: string[][]): string {
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => (row[c] ?? "").length)));
  return table.map((row) => row.map((cell, c) => cell.padEnd(widths[c]!)).join("  ").trimEnd()).join("\n");
}
