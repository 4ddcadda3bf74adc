/**
 * The heuristics' dev set: fixture repos under test/fixtures/propose/repos with the expected
 * runtime, identifier and required env var names. Shared by the accuracy test and bench/propose.ts.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gatherEvidence } from "../../src/propose/evidence.js";
import { analyze, type Analysis } from "../../src/propose/heuristics.js";
import { localRepoReader } from "../../src/propose/local-repo-reader.js";

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../fixtures/propose");

export interface DevCase {
  fixture: string;
  repository: string;
  subfolder?: string;
  case: string;
  expected: { runtime: string; identifier: string; requiredEnv: string[] };
}

export interface DevResult {
  case: DevCase;
  got: { runtime: string; identifier: string; requiredEnv: string[] };
  runtimeIdentifierOk: boolean;
  envOk: boolean;
  analysis: Analysis;
}

export function loadDevSet(): DevCase[] {
  return JSON.parse(readFileSync(path.join(FIXTURES, "dev-set.json"), "utf8")) as DevCase[];
}

export async function runDevCase(c: DevCase): Promise<DevResult> {
  const reader = localRepoReader(path.join(FIXTURES, "repos", c.fixture), { repository: c.repository });
  const analysis = analyze(await gatherEvidence(reader, c.subfolder ?? ""));
  const best = analysis.best;
  const got = {
    runtime: best?.runtime ?? "none",
    identifier: best?.identifier ?? "",
    requiredEnv: requiredEnvOf(analysis),
  };
  return {
    case: c,
    got,
    runtimeIdentifierOk: got.runtime === c.expected.runtime && got.identifier === c.expected.identifier,
    envOk: JSON.stringify(got.requiredEnv) === JSON.stringify([...c.expected.requiredEnv].sort()),
    analysis,
  };
}

/** Required env var names of the entry the heuristics built (headers for remotes). */
export function requiredEnvOf(analysis: Analysis): string[] {
  const pkg = analysis.entry.packages?.[0];
  const vars = pkg ? (pkg.environmentVariables ?? []) : (analysis.entry.remotes?.[0]?.headers ?? []);
  return vars.filter((v) => v.isRequired).map((v) => v.name).sort();
}

export async function runDevSet(): Promise<{ results: DevResult[]; runtimeIdentifierRate: number; envRate: number }> {
  const results: DevResult[] = [];
  for (const c of loadDevSet()) results.push(await runDevCase(c));
  const n = results.length || 1;
  return {
    results,
    runtimeIdentifierRate: results.filter((r) => r.runtimeIdentifierOk).length / n,
    envRate: results.filter((r) => r.envOk).length / n,
  };
}
