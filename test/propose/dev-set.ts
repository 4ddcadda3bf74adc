/**
 * The proposer's dev set: real repositories under test/fixtures/propose/repos (trimmed to the files
 * the proposer reads) with labels written from each repository's own docs: runtime, identifier,
 * required env var names and all env var names of the default (stdio) mode. Each case belongs to
 * the `tune` part (heuristics may be adjusted to it) or the `holdout` part (only measured; the split
 * is sha1(fixture)[0] < 8, fixed before the first run) or the `blind` part (never run unless asked for
 * explicitly: `runDevSet("blind")` or `{ includeBlind: true }`). Shared by the tests and bench/propose.ts.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gatherEvidence } from "../../src/propose/evidence.js";
import { analyze, type Analysis } from "../../src/propose/heuristics.js";
import { localRepoReader } from "../../src/propose/local-repo-reader.js";
import { validateProposal } from "../../src/propose/validate-proposal.js";

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../fixtures/propose");

/** `blind`: added for issue 18 round 2, labelled before any run and measured only with `--blind`, once. */
export type DevPart = "tune" | "holdout" | "blind";

export interface DevCase {
  fixture: string;
  repository: string;
  subfolder?: string;
  case: string;
  part: DevPart;
  expected: { runtime: string; identifier: string; requiredEnv: string[]; env: string[]; alternatives?: string[][] };
  labelNotes?: string;
}

export interface DevResult {
  case: DevCase;
  got: { runtime: string; identifier: string; requiredEnv: string[]; env: string[] };
  runtimeIdentifierOk: boolean;
  /** Required env names exact. */
  envOk: boolean;
  /** All env names exact. */
  allEnvOk: boolean;
  /** The entry validates, or it carries an explicit reviewer TODO (and still validates). */
  valid: boolean;
  todos: number;
  ms: number;
  analysis: Analysis;
}

export interface PartSummary {
  n: number;
  runtimeIdentifierRate: number;
  envRate: number;
  allEnvRate: number;
  validRate: number;
  medianMs: number;
}

export function loadDevSet(): DevCase[] {
  return JSON.parse(readFileSync(path.join(FIXTURES, "dev-set.json"), "utf8")) as DevCase[];
}

/** Identifiers compared the way a registry resolves them: OCI without `docker.io/`, `library/` or tag; URLs without a trailing slash. */
export function sameIdentifier(runtime: string, a: string, b: string): boolean {
  const norm = (s: string) =>
    runtime === "docker"
      ? s.toLowerCase().replace(/^docker\.io\//, "").replace(/^library\//, "").replace(/(@sha256:[a-f0-9]+|:[^/:]+)$/, "")
      : runtime === "remote"
        ? s.replace(/\/+$/, "")
        : s.toLowerCase();
  return norm(a) === norm(b);
}

export async function runDevCase(c: DevCase): Promise<DevResult> {
  const reader = localRepoReader(path.join(FIXTURES, "repos", c.fixture), { repository: c.repository });
  const start = performance.now();
  const analysis = analyze(await gatherEvidence(reader, c.subfolder ?? ""));
  const ms = performance.now() - start;
  const best = analysis.best;
  const got = { runtime: best?.runtime ?? "none", identifier: best?.identifier ?? "", requiredEnv: envOf(analysis, true), env: envOf(analysis, false) };
  const validation = validateProposal(analysis.entry, analysis.prefix);
  const sorted = (xs: string[]) => JSON.stringify([...xs].sort());
  return {
    case: c,
    got,
    runtimeIdentifierOk: got.runtime === c.expected.runtime && sameIdentifier(got.runtime, got.identifier, c.expected.identifier),
    envOk: sorted(got.requiredEnv) === sorted(c.expected.requiredEnv),
    allEnvOk: sorted(got.env) === sorted(c.expected.env),
    valid: validation.ok,
    todos: analysis.todos.length,
    ms,
    analysis,
  };
}

/** Env var names of the entry the heuristics built (headers for remotes); only required ones when `requiredOnly`. */
export function envOf(analysis: Analysis, requiredOnly: boolean): string[] {
  const pkg = analysis.entry.packages?.[0];
  const vars = pkg ? (pkg.environmentVariables ?? []) : (analysis.entry.remotes?.[0]?.headers ?? []);
  return vars.filter((v) => !requiredOnly || v.isRequired).map((v) => v.name).sort();
}

/** @deprecated kept for callers of the first dev set: the required env names. */
export function requiredEnvOf(analysis: Analysis): string[] {
  return envOf(analysis, true);
}

export function summarize(results: DevResult[]): PartSummary {
  const n = results.length || 1;
  const rate = (f: (r: DevResult) => boolean) => results.filter(f).length / n;
  const ms = results.map((r) => r.ms).sort((a, b) => a - b);
  return {
    n: results.length,
    runtimeIdentifierRate: rate((r) => r.runtimeIdentifierOk),
    envRate: rate((r) => r.envOk),
    allEnvRate: rate((r) => r.allEnvOk),
    validRate: rate((r) => r.valid),
    medianMs: ms[Math.floor((ms.length - 1) / 2)] ?? 0,
  };
}

export async function runDevSet(
  part?: DevPart,
  options: { includeBlind?: boolean } = {},
): Promise<{ results: DevResult[]; runtimeIdentifierRate: number; envRate: number; tune: PartSummary; holdout: PartSummary; blind: PartSummary }> {
  const results: DevResult[] = [];
  const wanted = (c: DevCase) => (part ? c.part === part : c.part !== "blind" || options.includeBlind === true);
  for (const c of loadDevSet()) if (wanted(c)) results.push(await runDevCase(c));
  // Once more, timed after warm-up (module load, regex compilation): the in-process figure.
  for (const r of results) r.ms = (await runDevCase(r.case)).ms;
  const all = summarize(results.filter((r) => r.case.part !== "blind"));
  return {
    results,
    runtimeIdentifierRate: all.runtimeIdentifierRate,
    envRate: all.envRate,
    tune: summarize(results.filter((r) => r.case.part === "tune")),
    holdout: summarize(results.filter((r) => r.case.part === "holdout")),
    blind: summarize(results.filter((r) => r.case.part === "blind")),
  };
}
