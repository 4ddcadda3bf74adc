/**
 * Log lines for a terminal: pino writes JSON, this destination turns each line into
 * `12:04:05 WARN  prepare failed  server=github err=…` before passing it on. Used for
 * `--log-format text` (the default when stderr is a terminal); JSON stays the format for files,
 * pipes and log collectors.
 */
import type { LineDestination } from "../secrets/secret-scrubber.js";

const LEVELS: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO ", 40: "WARN ", 50: "ERROR", 60: "FATAL" };
const HIDDEN = new Set(["level", "time", "pid", "hostname", "msg", "v"]);

export function formatLogLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof entry.time === "number" ? new Date(entry.time).toTimeString().slice(0, 8) : "";
  const level = LEVELS[entry.level as number] ?? String(entry.level ?? "");
  const fields = Object.entries(entry)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => `${k}=${typeof v === "string" ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`);
  return `${time} ${level} ${String(entry.msg ?? "")}${fields.length ? `  ${fields.join(" ")}` : ""}\n`;
}

export function textDestination(inner: LineDestination): LineDestination {
  return {
    write(chunk: string) {
      const lines = chunk.split("\n").filter((l) => l.trim());
      return inner.write(lines.map(formatLogLine).join(""));
    },
  };
}
