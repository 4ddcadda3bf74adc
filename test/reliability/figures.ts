/**
 * The reliability suite's figures: each scenario records rows (what was measured, what was
 * expected, pass/fail) and every row is asserted, so a missed figure fails its test. Each test
 * file prints its own section of the table when it ends (node's runner gives every file its own
 * process); with RELIABILITY_REPORT=<file> the sections are also appended there, so CI can
 * publish one table (e.g. into $GITHUB_STEP_SUMMARY).
 */
import assert from "node:assert/strict";
import { appendFileSync } from "node:fs";

export interface FigureRow {
  scenario: string;
  figure: string;
  expectation: string;
  pass: boolean;
}

const HEADER = "| scenario | figure measured | expectation | result |\n| --- | --- | --- | --- |";

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

export class Figures {
  readonly rows: FigureRow[] = [];
  readonly #started = performance.now();

  constructor(readonly section: string) {}

  /** Records a row and asserts it: the test fails when the figure misses its expectation. */
  check(scenario: string, figure: string, expectation: string, pass: boolean, detail?: string): void {
    this.rows.push({ scenario, figure, expectation, pass });
    assert.ok(pass, `${scenario}: measured ${figure}, expected ${expectation}${detail ? `\n${detail}` : ""}`);
  }

  /** A row for a scenario that threw before it could measure (so the table never hides it). */
  broken(scenario: string, error: unknown): void {
    this.rows.push({ scenario, figure: `error: ${(error as Error).message.split("\n")[0] ?? ""}`.slice(0, 160), expectation: "runs to the end", pass: false });
  }

  /** Runs a scenario body; a throw before any row of that scenario is recorded becomes a failing row. */
  async scenario(scenario: string, body: () => Promise<void>): Promise<void> {
    const before = this.rows.length;
    try {
      await body();
    } catch (error) {
      if (!this.rows.slice(before).some((r) => !r.pass)) this.broken(scenario, error);
      throw error;
    }
  }

  markdown(): string {
    const seconds = ((performance.now() - this.#started) / 1000).toFixed(1);
    const lines = this.rows.map((r) => `| ${cell(r.scenario)} | ${cell(r.figure)} | ${cell(r.expectation)} | ${r.pass ? "pass" : "**FAIL**"} |`);
    return `### Reliability: ${this.section} (${seconds} s)\n\n${HEADER}\n${lines.join("\n")}\n`;
  }

  /** Prints the section (stdout: the runner shows it as `#` lines) and appends it to RELIABILITY_REPORT. */
  print(): void {
    const text = this.markdown();
    console.log(`\n${text}`);
    const report = process.env.RELIABILITY_REPORT;
    if (report) appendFileSync(report, `${text}\n`);
  }
}

/** Milliseconds since `t0` (performance.now()), rounded. */
export function since(t0: number): number {
  return Math.round(performance.now() - t0);
}

/** Polls `probe` until it returns a truthy value or `timeoutMs` passes (then throws, naming `what`). */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
