/**
 * The daemon's secret store: where servers' declared inputs find their values, by name. Only what
 * the operator put there is granted: a secrets file, a folder of files (one per secret, as Docker
 * and Kubernetes mount them), and environment variables under the explicit prefix
 * `MCP_ROUTER_SECRET_`. Never the daemon's own configuration or the rest of its environment.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { ConfigError } from "../config-error.js";
import type { SecretGrants } from "../registry/store-lookups.js";

/** Environment variables under this prefix are secrets: `MCP_ROUTER_SECRET_GITHUB_TOKEN` grants `GITHUB_TOKEN`. */
export const SECRET_ENV_PREFIX = "MCP_ROUTER_SECRET_";

/** Where the daemon finds secret VALUES by name. Values never come from the registry. */
export interface SecretSource {
  get(name: string): string | undefined;
  /** Human description of where values come from, for error messages ("the daemon's environment"). */
  readonly description: string;
}

/**
 * Secrets from the environment variables named `<prefix><NAME>` (the daemon's `process.env`, passed
 * in by the composition root). Nothing else in the environment is reachable through it.
 */
export function envSecretSource(env: Readonly<Record<string, string | undefined>>, prefix = SECRET_ENV_PREFIX): SecretSource {
  return {
    description: `the daemon's environment (${prefix}<NAME>)`,
    get: (name) => {
      const value = env[`${prefix}${name}`];
      return value === undefined || value === "" ? undefined : value;
    },
  };
}

/**
 * Secrets from a folder with one file per secret, named after it (`/run/secrets/GITHUB_TOKEN`),
 * read once; one trailing newline is dropped. Files whose names are not variable names are skipped.
 */
export function dirSecretSource(dir: string): SecretSource {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    throw new ConfigError("SECRETS_DIR_INVALID", `cannot read the secrets folder ${dir}: ${(error as NodeJS.ErrnoException).code ?? "error"}`, "Check the path given with --secrets-dir and its permissions.");
  }
  const values: Record<string, string> = {};
  for (const name of names) {
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) continue;
    const file = path.join(dir, name);
    if (!statSync(file).isFile()) continue;
    values[name] = readFileSync(file, "utf8").replace(/\r?\n$/, "");
  }
  return staticSecretSource(values, `the secrets folder ${dir}`);
}

/** The grants a secret store makes, for the loader's SECRET_NOT_GRANTED check. */
export function secretGrants(source: SecretSource): SecretGrants {
  return {
    has: (name) => source.get(name) !== undefined,
    howToGrant: (name) => `Grant it to the daemon (it now reads ${source.description}): a line ${name}=... in a secrets file (--secrets-file), a file named ${name} in a secrets folder (--secrets-dir), or ${SECRET_ENV_PREFIX}${name} in its environment.`,
  };
}

/** Secrets from fixed values (tests, or values parsed elsewhere). */
export function staticSecretSource(values: Readonly<Record<string, string>>, description = "static values"): SecretSource {
  return { description, get: (name) => (Object.hasOwn(values, name) ? values[name] : undefined) };
}

/**
 * Parses a secrets file: a JSON object of string values, or KEY=VALUE lines
 * (`#` comments, blank lines, optional `export `, optional single or double quotes).
 * Errors name the line, never the value.
 */
export function parseSecretsFile(text: string, path: string): Record<string, string> {
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new ConfigError("SECRETS_FILE_INVALID", `secrets file ${path} is not valid JSON`, "Write a JSON object of string values, or KEY=VALUE lines.");
    }
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
      if (typeof value !== "string") {
        throw new ConfigError("SECRETS_FILE_INVALID", `secrets file ${path}: the value of ${key} is not a string`, "Quote every value as a JSON string.");
      }
      out[key] = value;
    }
    return out;
  }
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/.exec(line);
    if (!match) {
      throw new ConfigError(
        "SECRETS_FILE_INVALID",
        `secrets file ${path}, line ${index + 1}: expected KEY=VALUE`,
        "Write one KEY=VALUE per line (names: letters, digits, underscores).",
      );
    }
    let value = (match[2] ?? "").trim();
    if (value.length >= 2 && ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'")))) {
      value = value.slice(1, -1);
    }
    out[match[1] as string] = value;
  });
  return out;
}

/** Secrets read once from a file (KEY=VALUE lines or a JSON object). */
export function fileSecretSource(path: string): SecretSource {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError("SECRETS_FILE_INVALID", `cannot read secrets file ${path}: ${(error as NodeJS.ErrnoException).code ?? "error"}`, "Check the path given with --secrets-file and its permissions.");
  }
  return staticSecretSource(parseSecretsFile(text, path), `the secrets file ${path}`);
}

/** The first source that knows a name wins. */
export function chainSecretSources(...sources: SecretSource[]): SecretSource {
  return {
    description: sources.map((s) => s.description).join(" or ") || "no secret source",
    get: (name) => {
      for (const source of sources) {
        const value = source.get(name);
        if (value !== undefined) return value;
      }
      return undefined;
    },
  };
}
