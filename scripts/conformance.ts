/**
 * Runs the official MCP conformance suite's server scenarios (`@modelcontextprotocol/conformance`)
 * against one URL, for the 2025-11-25 and 2026-07-28 protocol eras, and prints one line per scenario
 * and era, the failing check's message, and totals. The exit status is non-zero when a scenario fails
 * that `scripts/conformance-expected-failures.yaml` does not list, when a listed one passes (a stale
 * entry), or when the suite cannot run.
 *
 *   PATH="$(bash .ci/node.sh 24):$PATH" npx tsx scripts/conformance.ts                # against the conformance upstream
 *   PATH="$(bash .ci/node.sh 24):$PATH" npx tsx scripts/conformance.ts --url http://127.0.0.1:8080/servers/conf/mcp
 *
 *   PATH="$(bash .ci/node.sh 24):$PATH" npx tsx scripts/conformance.ts --through-gateway  # the gateway in front of it
 *
 * Options: `--url <url>` (default: start `test/support/conformance-server.ts` in-process),
 * `--through-gateway` (start the upstream and the daemon in front of it, and test the daemon's
 * `/servers/conformance/mcp`, against `scripts/conformance-gateway-expected-failures.yaml`),
 * `--spec-version <v>` (repeatable; default both eras), `--scenario <name>` (repeatable),
 * `--expected-failures <file>`, `--timeout <ms>` (per scenario), `--json <file>` (the results as data).
 *
 * The suite needs Node >= 22 (`.ci/node.sh 24` installs one). It runs offline from a local install,
 * found in this order: `CONFORMANCE_BIN` (the suite's `dist/index.js`), the project's own
 * `node_modules/@modelcontextprotocol/conformance`, then a scratch install in `/tmp/conf`
 * (`npm install @modelcontextprotocol/conformance@0.2.0-alpha.12` there). `CONFORMANCE_NODE` names a
 * Node >= 22 binary to run it with when this script itself runs on an older one.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { startConformanceServer } from "../test/support/conformance-server.js";
import { startGatewayInFront } from "./conformance-gateway.js";

/** The protocol revisions the runner drives: one per era. */
export const SPEC_VERSIONS = ["2025-11-25", "2026-07-28"] as const;
export type SpecVersion = (typeof SPEC_VERSIONS)[number];

/** The suite release the scenarios and the expected failures were written against. */
export const CONFORMANCE_VERSION = "0.2.0-alpha.12";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
export const DEFAULT_EXPECTED_FAILURES = path.join(here, "conformance-expected-failures.yaml");

/** Where the suite is and how to run it. */
export interface ConformanceSuite {
  /** The suite's CLI entry, `.../dist/index.js`. */
  entry: string;
  /** Its package version, or "unknown". */
  version: string;
  /** The Node binary that runs it (>= 22). */
  node: string;
}

/** One check as the suite reports it (`checks.json`). */
export interface CheckResult {
  id: string;
  name: string;
  status: "SUCCESS" | "FAILURE" | "WARNING" | "SKIPPED" | "INFO";
  errorMessage?: string;
}

/** One scenario at one era: `fail` when a check failed or the scenario left no result. */
export interface ScenarioResult {
  scenario: string;
  specVersion: SpecVersion;
  outcome: "pass" | "fail";
  checks: CheckResult[];
  /** The first failing check's id and message, or why there is no result. */
  failure?: string;
}

export interface RunOptions {
  url: URL;
  specVersions: readonly SpecVersion[];
  /** Only these scenarios (each still filtered by era); all the era's scenarios when empty. */
  scenarios?: readonly string[];
  /** Per-scenario timeout handed to the suite, in ms. */
  timeoutMs?: number;
}

/** One tolerated failure: a whole scenario, or one check of it, at one era. */
export interface ExpectedFailure {
  scenario: string;
  check?: string;
  reason: string;
}
export type ExpectedFailures = Record<SpecVersion, ExpectedFailure[]>;

/** The verdict on a run: what failed unexpectedly, what failed as expected, which entries are stale. */
export interface Verdict {
  unexpected: ScenarioResult[];
  expected: { result: ScenarioResult; entry: ExpectedFailure }[];
  stale: { specVersion: SpecVersion; entry: ExpectedFailure }[];
}

function majorOf(version: string): number {
  return Number(version.replace(/^v/, "").split(".")[0]);
}

/** Finds the suite (see the header for the order) and the Node that runs it. */
export async function resolveSuite(env: NodeJS.ProcessEnv = process.env): Promise<ConformanceSuite> {
  const candidates: string[] = [];
  if (env["CONFORMANCE_BIN"]) candidates.push(path.resolve(env["CONFORMANCE_BIN"]));
  try {
    const manifest = createRequire(path.join(root, "package.json")).resolve("@modelcontextprotocol/conformance/package.json");
    candidates.push(path.join(path.dirname(manifest), "dist", "index.js"));
  } catch {
    // not a dependency (yet): fall through to the scratch install
  }
  candidates.push("/tmp/conf/node_modules/@modelcontextprotocol/conformance/dist/index.js");
  const entry = candidates.find((candidate) => existsSync(candidate));
  if (!entry) {
    throw new Error(
      `the conformance suite is not installed (looked at ${candidates.join(", ")}): set CONFORMANCE_BIN to its dist/index.js, ` +
        `or run: mkdir -p /tmp/conf && cd /tmp/conf && npm install @modelcontextprotocol/conformance@${CONFORMANCE_VERSION}`,
    );
  }
  const manifest = path.join(path.dirname(entry), "..", "package.json");
  const version = existsSync(manifest) ? String((JSON.parse(await readFile(manifest, "utf8")) as { version?: unknown }).version ?? "unknown") : "unknown";
  const node = env["CONFORMANCE_NODE"] ?? process.execPath;
  const nodeVersion = node === process.execPath ? process.version : (await run(node, ["--version"])).stdout.trim();
  if (!(majorOf(nodeVersion) >= 22)) {
    throw new Error(`the conformance suite needs Node >= 22, ${node} is ${nodeVersion}: run with PATH="$(bash .ci/node.sh 24):$PATH" or set CONFORMANCE_NODE`);
  }
  return { entry, version, node };
}

/** Runs a command to its end and collects its output. */
function run(command: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), stdout, stderr }));
  });
}

/** The server scenarios the suite runs at one era (its `list --server --spec-version`). */
export async function listScenarios(suite: ConformanceSuite, specVersion: SpecVersion): Promise<string[]> {
  const listed = await run(suite.node, [suite.entry, "list", "--server", "--spec-version", specVersion]);
  if (listed.code !== 0) throw new Error(`conformance list failed (${listed.code}): ${listed.stderr.trim() || listed.stdout.trim()}`);
  return [...listed.stdout.matchAll(/^\s+- (\S+)/gm)].map((match) => match[1] ?? "").filter(Boolean);
}

/** `server-<scenario>-<ISO timestamp with : and . as ->`: the folder the suite writes a scenario's checks.json into. */
const RESULT_DIR = /^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/;

/** Runs the scenarios at each era against `url` and returns one result per scenario and era, as data. */
export async function runConformance(suite: ConformanceSuite, options: RunOptions): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const specVersion of options.specVersions) {
    const available = await listScenarios(suite, specVersion);
    const wanted = options.scenarios?.length ? available.filter((name) => options.scenarios?.includes(name)) : available;
    if (wanted.length === 0) continue;
    const outputDir = await mkdtemp(path.join(os.tmpdir(), `conformance-${specVersion}-`));
    try {
      const base = [suite.entry, "server", "--url", options.url.href, "--spec-version", specVersion, "-o", outputDir];
      if (options.timeoutMs) base.push("--timeout", String(options.timeoutMs));
      // One suite process per era runs every scenario ("--suite all": the 2026-07-28 ones are drafts
      // in 0.2.0-alpha.12, and the era filter keeps extension scenarios out); single scenarios run one by one.
      const invocations = wanted.length === available.length ? [[...base, "--suite", "all"]] : wanted.map((name) => [...base, "--scenario", name]);
      const logs: string[] = [];
      for (const args of invocations) {
        const outcome = await run(suite.node, args);
        logs.push(outcome.stdout, outcome.stderr);
      }
      const checksByScenario = new Map<string, CheckResult[]>();
      for (const entry of await readdir(outputDir)) {
        const scenario = RESULT_DIR.exec(entry)?.[1];
        const file = path.join(outputDir, entry, "checks.json");
        if (scenario && existsSync(file)) checksByScenario.set(scenario, JSON.parse(await readFile(file, "utf8")) as CheckResult[]);
      }
      for (const scenario of wanted) {
        const checks = checksByScenario.get(scenario);
        if (!checks) {
          const tail = logs.join("\n").trim().split("\n").slice(-3).join(" | ");
          results.push({ scenario, specVersion, outcome: "fail", checks: [], failure: `no result (timed out or crashed)${tail ? `: ${tail}` : ""}` });
          continue;
        }
        const failed = checks.find((check) => check.status === "FAILURE");
        results.push({
          scenario,
          specVersion,
          outcome: failed ? "fail" : "pass",
          checks: checks.map(({ id, name, status, errorMessage }) => ({ id, name, status, ...(errorMessage ? { errorMessage } : {}) })),
          ...(failed ? { failure: `${failed.id}: ${failed.errorMessage ?? failed.name}` } : {}),
        });
      }
    } finally {
      await rm(outputDir, { recursive: true, force: true });
    }
  }
  return results;
}

/** Reads the expected-failures YAML: per era, a list of `{scenario, check?, reason}`. */
export async function loadExpectedFailures(file: string): Promise<ExpectedFailures> {
  const parsed = (parseYaml(await readFile(file, "utf8")) ?? {}) as Record<string, unknown>;
  const expected = { "2025-11-25": [], "2026-07-28": [] } as ExpectedFailures;
  for (const [key, list] of Object.entries(parsed)) {
    if (!(SPEC_VERSIONS as readonly string[]).includes(key)) throw new Error(`${file}: unknown era ${key} (expected one of ${SPEC_VERSIONS.join(", ")})`);
    if (list === null) continue;
    if (!Array.isArray(list)) throw new Error(`${file}: ${key} must be a list`);
    for (const item of list as unknown[]) {
      const entry = item as Partial<ExpectedFailure> | null;
      if (typeof entry?.scenario !== "string" || typeof entry.reason !== "string" || (entry.check !== undefined && typeof entry.check !== "string")) {
        throw new Error(`${file}: every ${key} entry needs scenario and reason (and may name a check): ${JSON.stringify(item)}`);
      }
      expected[key as SpecVersion].push({ scenario: entry.scenario, reason: entry.reason, ...(entry.check ? { check: entry.check } : {}) });
    }
  }
  return expected;
}

/** Sorts the failures into expected and unexpected, and finds expected-failure entries that now pass. */
export function judge(results: readonly ScenarioResult[], expected: ExpectedFailures): Verdict {
  const verdict: Verdict = { unexpected: [], expected: [], stale: [] };
  const used = new Set<ExpectedFailure>();
  for (const result of results) {
    if (result.outcome === "pass") continue;
    const entries = expected[result.specVersion].filter((entry) => entry.scenario === result.scenario);
    const failing = result.checks.filter((check) => check.status === "FAILURE").map((check) => check.id);
    const whole = entries.find((entry) => !entry.check);
    const covered = whole ? [whole] : entries.filter((entry) => entry.check && failing.includes(entry.check));
    const uncovered = whole ? [] : failing.filter((id) => !covered.some((entry) => entry.check === id));
    for (const entry of covered) used.add(entry);
    if (covered.length > 0 && uncovered.length === 0 && (failing.length > 0 || whole)) {
      verdict.expected.push({ result, entry: covered[0] as ExpectedFailure });
    } else {
      verdict.unexpected.push(result);
    }
  }
  const ran = new Set(results.map((result) => `${result.specVersion} ${result.scenario}`));
  for (const specVersion of SPEC_VERSIONS) {
    for (const entry of expected[specVersion]) {
      if (ran.has(`${specVersion} ${entry.scenario}`) && !used.has(entry)) verdict.stale.push({ specVersion, entry });
    }
  }
  return verdict;
}

/** The table: one line per scenario and era, the failing check beside a failure, then totals per era. */
export function formatReport(results: readonly ScenarioResult[], verdict: Verdict): string {
  const expectedSet = new Set(verdict.expected.map(({ result }) => result));
  const width = Math.max(8, ...results.map((result) => result.scenario.length));
  const lines = [`${"scenario".padEnd(width)}  era         result  checks  detail`];
  for (const result of results) {
    const passed = result.checks.filter((check) => check.status === "SUCCESS").length;
    const counted = result.checks.filter((check) => check.status === "SUCCESS" || check.status === "FAILURE").length;
    const label = result.outcome === "pass" ? "pass" : expectedSet.has(result) ? "xfail" : "FAIL";
    const notes = result.checks.filter((check) => check.status === "WARNING" || check.status === "SKIPPED").map((check) => `${check.status.toLowerCase()} ${check.id}`);
    const detail = result.failure ?? notes.join("; ");
    lines.push(`${result.scenario.padEnd(width)}  ${result.specVersion}  ${label.padEnd(6)}  ${`${passed}/${counted}`.padEnd(6)}  ${detail}`.trimEnd());
  }
  lines.push("");
  for (const specVersion of SPEC_VERSIONS) {
    const era = results.filter((result) => result.specVersion === specVersion);
    if (era.length === 0) continue;
    const checks = era.flatMap((result) => result.checks);
    const count = (status: CheckResult["status"]) => checks.filter((check) => check.status === status).length;
    const xfail = era.filter((result) => expectedSet.has(result)).length;
    const pass = era.filter((result) => result.outcome === "pass").length;
    lines.push(
      `${specVersion}: ${pass}/${era.length} scenarios pass, ${xfail} expected failures, ${era.length - pass - xfail} unexpected; ` +
        `checks ${count("SUCCESS")} passed, ${count("FAILURE")} failed, ${count("WARNING")} warnings, ${count("SKIPPED")} skipped`,
    );
  }
  for (const { specVersion, entry } of verdict.stale) {
    lines.push(`stale expected failure (${specVersion}): ${entry.scenario}${entry.check ? `:${entry.check}` : ""} now passes; remove it`);
  }
  return lines.join("\n");
}

interface CliOptions extends RunOptions {
  expectedFailures: string;
  json?: string;
  /** Run against the gateway's per-server endpoint fronting the conformance upstream. */
  throughGateway: boolean;
}

/** The known gaps of the gateway in front of the conformance upstream (see the file). */
export const GATEWAY_EXPECTED_FAILURES = path.join(here, "conformance-gateway-expected-failures.yaml");

function parseArguments(argv: readonly string[]): Omit<CliOptions, "url"> & { url?: URL } {
  const specVersions: SpecVersion[] = [];
  const scenarios: string[] = [];
  let url: URL | undefined;
  let expectedFailures: string | undefined;
  let throughGateway = false;
  let json: string | undefined;
  let timeoutMs: number | undefined;
  for (let index = 0; index < argv.length; index++) {
    const flag = argv[index];
    if (flag === "--through-gateway") {
      throughGateway = true;
      continue;
    }
    const value = argv[index + 1];
    if (value === undefined || !flag?.startsWith("--")) throw new Error(`unexpected argument ${flag ?? ""}${flag?.startsWith("--") ? " (it takes a value)" : ""}`);
    index++;
    if (flag === "--url") url = new URL(value);
    else if (flag === "--spec-version") {
      if (!(SPEC_VERSIONS as readonly string[]).includes(value)) throw new Error(`--spec-version is one of ${SPEC_VERSIONS.join(", ")}, got ${value}`);
      specVersions.push(value as SpecVersion);
    } else if (flag === "--scenario") scenarios.push(value);
    else if (flag === "--expected-failures") expectedFailures = path.resolve(value);
    else if (flag === "--json") json = path.resolve(value);
    else if (flag === "--timeout") timeoutMs = Number(value);
    else throw new Error(`unknown option ${flag}`);
  }
  if (throughGateway && url) throw new Error("--through-gateway starts its own target; leave out --url");
  return {
    url,
    specVersions: specVersions.length ? specVersions : SPEC_VERSIONS,
    scenarios,
    expectedFailures: expectedFailures ?? (throughGateway ? GATEWAY_EXPECTED_FAILURES : DEFAULT_EXPECTED_FAILURES),
    json,
    timeoutMs,
    throughGateway,
  };
}

async function main(argv: readonly string[]): Promise<number> {
  const options = parseArguments(argv);
  const suite = await resolveSuite();
  const expected = await loadExpectedFailures(options.expectedFailures);
  const upstream = options.url ? undefined : await startConformanceServer();
  const gateway = upstream && options.throughGateway ? await startGatewayInFront(upstream.url) : undefined;
  const url = options.url ?? gateway?.url ?? (upstream as { url: URL }).url;
  try {
    const shown = suite.entry.startsWith(`${root}${path.sep}`) ? path.relative(root, suite.entry) : suite.entry;
    console.log(`conformance ${suite.version} (${shown}) on Node ${suite.node === process.execPath ? process.version : suite.node}`);
    console.log(`target ${url.href}${gateway ? " (the gateway's per-server endpoint, fronting the conformance upstream)" : upstream ? " (the conformance upstream, in-process)" : ""}\n`);
    const results = await runConformance(suite, { ...options, url });
    const verdict = judge(results, expected);
    console.log(formatReport(results, verdict));
    if (options.json) await writeFile(options.json, `${JSON.stringify({ suite: suite.version, url: url.href, results, verdict }, null, 2)}\n`);
    return results.length > 0 && verdict.unexpected.length === 0 && verdict.stale.length === 0 ? 0 : 1;
  } finally {
    await gateway?.close();
    await upstream?.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`conformance: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(2);
    },
  );
}
