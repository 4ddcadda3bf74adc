/**
 * Offline heuristic accuracy of `mcp-router propose` on the dev set (no network, no Claude):
 *   npx tsx bench/propose.ts [--verbose] [--show-holdout] [--blind [--show-blind]]
 * Prints, per part (tune / holdout), exact-match rates for runtime+identifier, required env names,
 * all env names, the share of valid files (or explicit reviewer TODOs) and the median time per
 * repository. Misses are listed for the tune part only, unless --show-holdout: the holdout part is
 * measured, not tuned on. The `blind` part is excluded from every run unless --blind is passed (it is
 * measured once, at the end of a round of changes); its misses are listed only with --show-blind, so
 * measuring it does not show what to fit.
 */
import type { BenchRow } from "./bench-row.js";
import { runDevSet, type DevResult, type PartSummary } from "../test/propose/dev-set.js";

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export async function benchPropose(options: { print?: boolean; verbose?: boolean; showHoldout?: boolean; showBlind?: boolean; blind?: boolean } = {}): Promise<BenchRow[]> {
  const { results, tune, holdout, blind } = await runDevSet(undefined, { includeBlind: options.blind === true });
  if (options.print) printResults(results, options.verbose ?? false, { holdout: options.showHoldout ?? false, blind: options.showBlind ?? false });
  const rows: BenchRow[] = [];
  const parts = [["tune", tune], ["holdout", holdout], ...(options.blind ? [["blind", blind]] : [])] as [string, PartSummary][];
  for (const [part, s] of parts) {
    const target = part !== "tune";
    rows.push(
      { name: `propose ${part}: runtime+identifier exact (${s.n} repos)`, value: s.runtimeIdentifierRate * 100, unit: "%", ...(target ? { target: ">= 97 %", ok: s.runtimeIdentifierRate >= 0.97 } : {}) },
      { name: `propose ${part}: required env names exact (${s.n} repos)`, value: s.envRate * 100, unit: "%", ...(target ? { target: ">= 85 %", ok: s.envRate >= 0.85 } : {}) },
      { name: `propose ${part}: all env names exact (${s.n} repos)`, value: s.allEnvRate * 100, unit: "%", ...(target ? { target: ">= 80 %", ok: s.allEnvRate >= 0.8 } : {}) },
      { name: `propose ${part}: valid files or explicit TODOs`, value: s.validRate * 100, unit: "%", ...(target ? { target: "100 %", ok: s.validRate === 1 } : {}) },
      { name: `propose ${part}: median time per repository`, value: s.medianMs, unit: "ms", ...(target ? { target: "< 50 ms", ok: s.medianMs < 50 } : {}) },
    );
  }
  return rows;
}

function printResults(results: DevResult[], verbose: boolean, show: { holdout: boolean; blind: boolean }): void {
  const pad = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n));
  console.log(`${pad("fixture", 26)} ${pad("part", 8)} rt+id req  all  valid`);
  for (const r of results) {
    const hidden = (r.case.part === "holdout" && !show.holdout) || (r.case.part === "blind" && !show.blind);
    const mark = (ok: boolean) => (ok ? " ok " : "MISS");
    console.log(`${pad(r.case.fixture, 26)} ${pad(r.case.part, 8)} ${hidden ? "  -  " : mark(r.runtimeIdentifierOk)}  ${hidden ? " -  " : mark(r.envOk)} ${hidden ? " -  " : mark(r.allEnvOk)} ${hidden ? " -" : r.valid ? (r.todos ? "todo" : " ok ") : "MISS"}`);
    if (hidden) continue;
    const e = r.case.expected;
    if (verbose || !r.runtimeIdentifierOk) if (!r.runtimeIdentifierOk) console.log(`    expected ${e.runtime} ${e.identifier}, got ${r.got.runtime} ${r.got.identifier}`);
    if (!r.envOk) console.log(`    required: expected [${[...e.requiredEnv].sort().join(", ")}], got [${r.got.requiredEnv.join(", ")}]`);
    if (!r.allEnvOk) {
      const missing = e.env.filter((x) => !r.got.env.includes(x));
      const extra = r.got.env.filter((x) => !e.env.includes(x));
      console.log(`    all env: missing [${missing.join(", ")}], extra [${extra.join(", ")}]`);
    }
    if (!r.valid) console.log(`    invalid entry`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { formatTable } = await import("./bench-row.js");
  const rows = await benchPropose({ print: true, verbose: process.argv.includes("--verbose"), showHoldout: process.argv.includes("--show-holdout"), showBlind: process.argv.includes("--show-blind"), blind: process.argv.includes("--blind") });
  console.log(`\n${formatTable(rows)}`);
  void pct;
}
