/** One figure of `npm run bench`: a measurement, the baseline measured in the same run, their ratio. */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  /** What the figure is compared with, measured in the same run (or a stated target). */
  baseline?: { name: string; value: number };
  /** value / baseline.value */
  ratio?: number;
  /** The target, e.g. ">= 2000 files/s" or "ratio <= 0.05". */
  target?: string;
  /** Whether the target is met; undefined when there is none. */
  ok?: boolean;
}

export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? NaN;
}

export function formatTable(rows: readonly BenchRow[]): string {
  const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(3));
  const table = [["figure", "value", "baseline (same run)", "ratio", "target", ""]];
  for (const r of rows) {
    table.push([
      r.name,
      `${fmt(r.value)} ${r.unit}`,
      r.baseline ? `${r.baseline.name}: ${fmt(r.baseline.value)}` : "",
      r.ratio === undefined ? "" : fmt(r.ratio),
      r.target ?? "",
      r.ok === undefined ? "" : r.ok ? "ok" : "MISSED",
    ]);
  }
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  return table.map((row) => row.map((cell, c) => cell.padEnd(widths[c]!)).join("  ").trimEnd()).join("\n");
}
