/**
 * Secret values never reach a log line, an audit line or an error sent to a client: a scrubber
 * replaces every known value with `***`, and `scrubbingDestination` puts it in front of a pino
 * destination so it applies to every line the logger writes, whatever field holds the value.
 * The values come from the composition root (API keys, the webhook secret, the values of the
 * secrets the registry's servers declare).
 */
import { envStyleName } from "../registry/store-lookups.js";
import type { SecretSource } from "./secret-source.js";
import type { RegistryServer } from "../registry/types.js";

export type Scrub = (text: string) => string;

/** Values shorter than this are not scrubbed (they would mangle ordinary text); launch uses the same floor. */
export const MIN_SECRET_LENGTH = 4;
export const SCRUBBED = "***";

/** The strings to look for: each value, and its JSON-escaped form when that differs (log lines are JSON). */
function needlesOf(values: Iterable<string>): string[] {
  const needles = new Set<string>();
  for (const value of values) {
    if (value.length < MIN_SECRET_LENGTH) continue;
    needles.add(value);
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value) needles.add(escaped);
  }
  // Longest first: a value containing another is replaced whole.
  return [...needles].sort((a, b) => b.length - a.length);
}

/**
 * A scrubber over the values `values()` returns. Return the same array object while nothing
 * changed: the search strings are derived once per array, and a line with no secret costs one
 * `includes` per value.
 */
export function secretScrubber(values: () => Iterable<string>): Scrub {
  let source: Iterable<string> | undefined;
  let needles: string[] = [];
  return (text) => {
    const current = values();
    if (current !== source) {
      source = current;
      needles = needlesOf(current);
    }
    let out = text;
    for (const needle of needles) if (out.includes(needle)) out = out.split(needle).join(SCRUBBED);
    return out;
  };
}

/** Replaces every occurrence of these secret values in one text (errors, stderr lines, URLs shown to people). */
export function scrubSecrets(text: string, values: Iterable<string>): string {
  let out = text;
  for (const needle of needlesOf(values)) if (out.includes(needle)) out = out.split(needle).join(SCRUBBED);
  return out;
}

/** The credentials in URLs (`https://user:token@host`) as `***`, for messages naming a URL whose secret is not known by value (a git remote). */
export function redactUrl(text: string): string {
  return text.replace(/(\w+:\/\/)[^/@\s]+@/g, "$1***@");
}

/** What pino writes to (a SonicBoom from `pino.destination()`, a stream). */
export interface LineDestination {
  write(line: string): unknown;
  flush?(cb?: (err?: Error) => void): void;
  flushSync?(): void;
  end?(): void;
}

/** A pino destination that scrubs every line before `destination` gets it. Flushing passes through. */
export function scrubbingDestination(destination: LineDestination, scrub: Scrub): LineDestination & { write(line: string): void } {
  const out: LineDestination & { write(line: string): void } = {
    write: (line) => void destination.write(scrub(line)),
  };
  if (destination.flush) out.flush = (cb) => destination.flush?.(cb);
  if (destination.flushSync) out.flushSync = () => destination.flushSync?.();
  if (destination.end) out.end = () => destination.end?.();
  return out;
}

function collectSecretNames(node: unknown, out: Set<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) collectSecretNames(item, out);
    return;
  }
  if (node === null || typeof node !== "object") return;
  const record = node as Record<string, unknown>;
  if (record.isSecret === true && typeof record.name === "string") {
    out.add(record.name);
    // A header without a value is also looked up under its env-style name (X-Api-Key -> X_API_KEY).
    out.add(envStyleName(record.name));
  }
  const variables = record.variables;
  if (variables && typeof variables === "object" && !Array.isArray(variables)) {
    for (const [name, input] of Object.entries(variables as Record<string, unknown>)) {
      if ((input as { isSecret?: unknown } | null)?.isSecret === true) out.add(name);
    }
  }
  for (const value of Object.values(record)) collectSecretNames(value, out);
}

/**
 * Names of the secrets a server declares: secret environment variables, headers and
 * `{variables}`, and the secret of its OpenAPI auth.
 */
export function declaredSecretNames(server: RegistryServer): string[] {
  const out = new Set<string>();
  collectSecretNames(server.entry.packages, out);
  collectSecretNames(server.entry.remotes, out);
  const openapiSecret = server.entry.router?.openapi?.auth?.secret;
  if (openapiSecret) out.add(openapiSecret);
  return [...out];
}

/** The values the secret source holds for every secret these servers declare. */
export function declaredSecretValues(servers: Iterable<RegistryServer>, source: SecretSource): string[] {
  const values = new Set<string>();
  for (const server of servers) {
    for (const name of declaredSecretNames(server)) {
      const value = source.get(name);
      if (value !== undefined) values.add(value);
    }
  }
  return [...values];
}

/**
 * The secret values a daemon knows, kept as one array that is replaced (never mutated) when it
 * changes, so `secretScrubber(known.values)` derives its search strings only then: fixed values
 * (API keys, the webhook secret) plus, when following a table, the values of the secrets its
 * servers declare.
 */
export class KnownSecrets {
  #fixed: string[] = [];
  #declared: string[] = [];
  #all: readonly string[] = [];

  /** The current values (same array until something changes). */
  readonly values = (): readonly string[] => this.#all;

  add(...values: string[]): void {
    this.#fixed = [...new Set([...this.#fixed, ...values])];
    this.#all = [...this.#fixed, ...this.#declared];
  }

  /** Replaces the declared values with those of these servers, looked up in the source. */
  declare(servers: Iterable<RegistryServer>, source: SecretSource): void {
    this.#declared = declaredSecretValues(servers, source);
    this.#all = [...this.#fixed, ...this.#declared];
  }
}
