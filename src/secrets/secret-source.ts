import { readFileSync } from "node:fs";
import { ConfigError } from "../config-error.js";

/** Where the daemon finds secret VALUES by name. Values never come from the registry. */
export interface SecretSource {
  get(name: string): string | undefined;
  /** Human description of where values come from, for error messages ("the daemon's environment"). */
  readonly description: string;
}

/** Secrets from an environment object (the daemon's `process.env`, passed in by the composition root). */
export function envSecretSource(env: Readonly<Record<string, string | undefined>>): SecretSource {
  return {
    description: "the daemon's environment",
    get: (name) => {
      const value = env[name];
      return value === undefined || value === "" ? undefined : value;
    },
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
