/**
 * The daemon's logger: pino, JSON lines (or readable text for a terminal) to stderr by default,
 * with known secret values replaced by `***` in every line before it is written. Stdout is never
 * used: in stdio mode it carries the protocol.
 */
import { pino } from "pino";
import type { Logger } from "pino";
import type { LineDestination } from "../secrets/secret-scrubber.js";
import { scrubbingDestination, secretScrubber } from "../secrets/secret-scrubber.js";
import { textDestination } from "./text-log.js";

export interface LogSettings {
  level: string;
  format?: "json" | "text";
  /** Where lines go (default: stderr). */
  destination?: LineDestination;
}

export function createLogger(settings: LogSettings, secretValues: () => readonly string[] = () => []): Logger {
  const out = settings.destination ?? pino.destination(2);
  return pino(
    { level: settings.level, base: { pid: process.pid }, redact: { paths: ["apiKey", "apiKeys", "authorization", "*.authorization", "secrets"], censor: "***" } },
    scrubbingDestination(settings.format === "text" ? textDestination(out) : out, secretScrubber(secretValues)),
  );
}
