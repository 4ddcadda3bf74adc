/**
 * Heuristic accuracy of `mcp-router propose` on the dev set (no network, no Claude):
 *   npx tsx bench/propose.ts [--verbose]
 * Prints exact-match rates for runtime+identifier and for the set of required env var names.
 */
import { runDevSet } from "../test/propose/dev-set.js";

const verbose = process.argv.includes("--verbose");
const { results, runtimeIdentifierRate, envRate } = await runDevSet();
const pad = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n));
console.log(`${pad("fixture", 28)} ${pad("case", 34)} rt+id env`);
for (const r of results) {
  console.log(`${pad(r.case.fixture, 28)} ${pad(r.case.case, 34)} ${r.runtimeIdentifierOk ? " ok " : "MISS"}  ${r.envOk ? "ok" : "MISS"}`);
  if (verbose || !r.runtimeIdentifierOk || !r.envOk) {
    if (!r.runtimeIdentifierOk) console.log(`    expected ${r.case.expected.runtime} ${r.case.expected.identifier}, got ${r.got.runtime} ${r.got.identifier}`);
    if (!r.envOk) console.log(`    expected env [${r.case.expected.requiredEnv.join(", ")}], got [${r.got.requiredEnv.join(", ")}]`);
  }
}
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const n = results.length;
console.log(`\n${n} repos: runtime+identifier exact match ${pct(runtimeIdentifierRate)} (${Math.round(runtimeIdentifierRate * n)}/${n}); required env names exact match ${pct(envRate)} (${Math.round(envRate * n)}/${n})`);
