/**
 * Every name a registry file will look up in the daemon's secret store when its server runs:
 * secret inputs, inputs without a value in the file, the variables of value templates, header
 * values, URL variables, the OpenAPI auth secret. Only the package (or remote) the launcher
 * will actually run counts. The loader checks these names against what the operator granted;
 * the privilege summary shows them to the reviewer. Mirrors `secrets/input-values.ts`, which
 * does the lookups at call time.
 */
import type { Problem } from "./file-rules.js";
import type { Input, KeyValueInput, RegistryFile } from "./types.js";

export interface StoreLookup {
  /** The name looked up in the store (a header is also looked up under its env-style name). */
  name: string;
  /** Other names that satisfy the lookup (`X_API_KEY` for header `X-API-Key`). */
  aliases: string[];
  /** Where the file asks for it. */
  segments: (string | number)[];
  /** The server cannot start without it. */
  required: boolean;
  /** Declared `isSecret`. */
  secret: boolean;
  /** What the file says it is for. */
  description?: string;
}

/** `X-API-Key` -> `X_API_KEY`: the name a header's value is also looked up under. */
export function envStyleName(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, "_").toUpperCase();
}

type Variables = Record<string, Input | undefined> | undefined;

/** The lookups of one input resolved by name (`resolveInput`). */
function inputLookup(name: string, input: Input | KeyValueInput, segments: (string | number)[], aliases: string[] = []): StoreLookup[] {
  const base = { name, aliases, segments, secret: input.isSecret === true, ...(input.description ? { description: input.description } : {}) };
  if (input.isSecret) return [{ ...base, required: input.isRequired === true }];
  if (input.value !== undefined) return [];
  return [{ ...base, required: input.isRequired === true && input.default === undefined }];
}

/** The lookups of a `{var}` template's variables (`substitute`). */
function templateLookups(template: string, variables: Variables, segments: (string | number)[]): StoreLookup[] {
  if (!variables) return [];
  const out: StoreLookup[] = [];
  for (const match of template.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
    const key = match[1] as string;
    const input = variables[key];
    if (input) out.push(...inputLookup(key, input, [...segments, "variables", key]));
  }
  return out;
}

function headerLookups(header: KeyValueInput, segments: (string | number)[]): StoreLookup[] {
  if (header.value !== undefined) return templateLookups(header.value, header.variables as Variables, segments);
  const alias = envStyleName(header.name);
  return inputLookup(header.name, header, segments, alias !== header.name ? [alias] : []);
}

export function storeLookups(entry: Readonly<RegistryFile>): StoreLookup[] {
  const out: StoreLookup[] = [];
  const router = entry.router;
  const packages = entry.packages ?? [];
  const packageIndex = router?.package ?? 0;
  const pkg = router?.openapi ? undefined : packages[packageIndex];
  if (pkg) {
    const at = ["packages", packageIndex];
    (pkg.environmentVariables ?? []).forEach((v, i) => {
      const segments = [...at, "environmentVariables", i];
      if (!v.isSecret && v.value !== undefined) out.push(...templateLookups(v.value, v.variables as Variables, segments));
      else out.push(...inputLookup(v.name, v, segments));
    });
    (pkg.packageArguments ?? []).forEach((arg, i) => {
      const raw = arg.value ?? arg.default;
      if (raw !== undefined) out.push(...templateLookups(raw, arg.variables as Variables, [...at, "packageArguments", i]));
    });
    if (pkg.transport.type !== "stdio") {
      (pkg.transport.headers ?? []).forEach((h, i) => out.push(...headerLookups(h, [...at, "transport", "headers", i])));
    }
  } else if (!router?.openapi && packages.length === 0 && !router?.build) {
    const remoteIndex = router?.remote ?? 0;
    const remote = entry.remotes?.[remoteIndex];
    if (remote) {
      const at = ["remotes", remoteIndex];
      out.push(...templateLookups(remote.url, remote.variables as Variables, at));
      (remote.headers ?? []).forEach((h, i) => out.push(...headerLookups(h, [...at, "headers", i])));
    }
  }
  const auth = router?.openapi?.auth;
  if (auth?.secret) out.push({ name: auth.secret, aliases: [], segments: ["router", "openapi", "auth", "secret"], required: true, secret: true, description: `OpenAPI ${auth.type} credential` });
  return out;
}

/** What the operator granted: the names in the daemon's secret store, and how to add one. */
export interface SecretGrants {
  has(name: string): boolean;
  /** One sentence: where to put a value for `name` ("Add GITHUB_TOKEN to the secrets file ..."). */
  howToGrant(name: string): string;
}

/** A required lookup that the store cannot answer: the server cannot start, so the file is refused. */
export function grantRules(entry: Readonly<RegistryFile>, grants: SecretGrants): Problem[] {
  return storeLookups(entry)
    .filter((l) => l.required && !grants.has(l.name) && !l.aliases.some((a) => grants.has(a)))
    .map((l) => ({
      segments: l.segments,
      rule: "secret.not-granted",
      message: `needs ${l.secret ? "the secret" : "the value"} ${l.name}, which the operator has not granted to the daemon (SECRET_NOT_GRANTED); the server does not start without it`,
      hint: grants.howToGrant(l.aliases[0] ?? l.name),
    }));
}
