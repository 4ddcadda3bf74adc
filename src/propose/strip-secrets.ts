/**
 * A proposal never carries a secret value: values of secret inputs are removed, a value that
 * looks like a real credential makes its input secret (and goes too), and neither a removed
 * value nor a credential-looking word survives anywhere else (a model may quote the example
 * key from a README in a description).
 */
import type { RegistryFile } from "../registry/types.js";
import { looksLikeCredential, looksSecret } from "./env-findings.js";

export interface StripResult {
  entry: RegistryFile;
  /** Document paths whose values were removed (for the PR body). */
  removed: string[];
}

interface Input {
  type?: string;
  name?: string;
  valueHint?: string;
  isRequired?: boolean;
  isSecret?: boolean;
  value?: string;
  default?: string;
  variables?: Record<string, Input | undefined>;
}

const TEMPLATE = /\{[A-Za-z_][A-Za-z0-9_]*\}/;

export function stripSecrets(entry: RegistryFile): StripResult {
  const removed: string[] = [];
  // Docker -e arguments first: the values below are judged in the entry they make.
  const converted = structuredClone(entry);
  const values = new Set<string>();
  converted.packages?.forEach((p, i) => dockerEnvArguments(p as unknown as PackageArgs, `packages[${i}]`, removed, values));
  const copy = structuredClone(converted);
  const visit = (input: Input, where: string, named: boolean) => {
    const secretName = named && input.name !== undefined && looksSecret(input.name);
    for (const field of ["value", "default"] as const) {
      const v = input[field];
      if (v === undefined || TEMPLATE.test(v)) continue;
      if (input.isSecret || secretName || looksLikeCredential(v)) {
        delete input[field];
        input.isSecret = true;
        removed.push(`${where}.${field}`);
        // A positional argument needs a value or a hint: the operator gives the secret at review
        // (`KEY=sk-...` keeps its name as the hint, so the form of the argument is still known).
        if (input.type === "positional" && input.value === undefined && input.valueHint === undefined) {
          input.valueHint = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(v)?.[1] ?? "secret";
          input.isRequired = true;
        }
      }
    }
    if (secretName && input.isSecret === undefined) input.isSecret = true;
    for (const [k, variable] of Object.entries(input.variables ?? {})) if (variable) visit(variable, `${where}.variables.${k}`, false);
  };
  copy.packages?.forEach((p, i) => {
    p.environmentVariables?.forEach((v, j) => visit(v as Input, `packages[${i}].environmentVariables[${j}]`, true));
    for (const kind of ["packageArguments", "runtimeArguments"] as const) p[kind]?.forEach((a, j) => visit(a as Input, `packages[${i}].${kind}[${j}]`, false));
    if (p.transport.type !== "stdio") p.transport.headers?.forEach((h, j) => visit(h as Input, `packages[${i}].transport.headers[${j}]`, true));
  });
  copy.remotes?.forEach((r, i) => {
    r.headers?.forEach((h, j) => visit(h as Input, `remotes[${i}].headers[${j}]`, true));
    for (const [k, v] of Object.entries(r.variables ?? {})) if (v) visit(v as Input, `remotes[${i}].variables.${k}`, false);
  });
  collectRemovedValues(converted, copy, values);
  redactStrings(copy as unknown as Record<string, unknown>, "", [...values].filter((v) => v.length >= 6), removed);
  return { entry: copy, removed };
}

interface PackageArgs {
  runtimeArguments?: (Input & { type?: string; valueHint?: string; description?: string; isRequired?: boolean })[];
  environmentVariables?: { name: string; description?: string; isRequired?: boolean; isSecret?: boolean; default?: string }[];
}

/**
 * Docker `-e NAME[=value]` runtime arguments (a positional `-e` and the next value, or a named `-e`)
 * become declared environment variables before values are judged: stripping a secret value out of
 * `-e TOKEN=...` would leave a bare `-e` (the container would then read the next argument as a
 * variable name), and a non-secret `-e NAME=value` is a default, not an argument.
 */
function dockerEnvArguments(p: PackageArgs, where: string, removed: string[], secretValues: Set<string>): void {
  const args = p.runtimeArguments;
  if (!args?.length) return;
  const kept: typeof args = [];
  for (let j = 0; j < args.length; j++) {
    const a = args[j]!;
    const flag = a.type === "named" ? (a.name ?? "") : (a.value ?? "");
    if (!/^(-e|--env)$/.test(flag)) {
      kept.push(a);
      continue;
    }
    const next = a.type === "named" ? a : args[++j];
    const spec = next?.value ?? next?.default ?? next?.valueHint ?? "";
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/s.exec(spec);
    if (!m) continue;
    const [name, value] = [m[1]!, m[2]];
    const secret = next?.isSecret === true || looksSecret(name) || (value !== undefined && looksLikeCredential(value));
    if (secret && value) {
      removed.push(`${where}.runtimeArguments[${j}].value`);
      secretValues.add(value);
    }
    const env = (p.environmentVariables ??= []);
    if (env.some((e) => e.name === name)) continue;
    env.push({
      name,
      ...(next?.description ? { description: next.description } : {}),
      ...(next?.isRequired !== undefined ? { isRequired: next.isRequired } : {}),
      ...(secret ? { isSecret: true } : {}),
      ...(value && !secret && !TEMPLATE.test(value) ? { default: value } : {}),
    });
  }
  if (kept.length) p.runtimeArguments = kept;
  else delete p.runtimeArguments;
}

/** Free-text fields, where a credential-looking word is redacted even when no input held it. */
const PROSE = new Set(["description", "title", "placeholder", "valueHint"]);
const REDACTED = "<redacted>";

/** The values stripSecrets removed: what `original` has at the places `stripped` no longer has. */
function collectRemovedValues(original: unknown, stripped: unknown, into: Set<string>): void {
  if (typeof original !== "object" || original === null) return;
  const o = original as Record<string, unknown>;
  const s = (stripped ?? {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(o)) {
    if (typeof value === "string" && (key === "value" || key === "default") && s[key] === undefined) into.add(value);
    else collectRemovedValues(value, s[key], into);
  }
}

/** Replaces removed secret values everywhere, and credential-looking words in prose fields. */
function redactStrings(node: Record<string, unknown> | unknown[], where: string, secrets: string[], removed: string[]): void {
  for (const [key, value] of Object.entries(node)) {
    const path = Array.isArray(node) ? `${where}[${key}]` : where ? `${where}.${key}` : key;
    if (typeof value === "string") {
      let text = value;
      for (const secret of secrets) text = text.split(secret).join(REDACTED);
      if (PROSE.has(key)) text = text.replace(/[^\s"'`(),;<>]+?(?=[.:!?]*(?:[\s"'`(),;<>]|$))/g, (word) => (looksLikeCredential(word) ? REDACTED : word));
      if (text !== value) {
        (node as Record<string, unknown>)[key] = text;
        removed.push(path);
      }
    } else if (typeof value === "object" && value !== null) {
      redactStrings(value as Record<string, unknown>, path, secrets, removed);
    }
  }
}

/**
 * A line quoted from a repository as evidence, safe to show in a PR: the value assigned to a
 * secret-looking name (`NAME=value`, `NAME: value`, `"NAME": "value"`, `-e NAME=value`) and any
 * credential-looking word become `<redacted>`. The name stays, since it is the evidence.
 */
export function redactQuote(line: string): string {
  const assigned = line.replace(/\b([A-Za-z_][A-Za-z0-9_]*)(["']?\s*[:=]\s*["']?)([^\s"'`,;}]+)/g, (whole, name: string, sep: string, value: string) =>
    looksSecret(name) && !/^(<.*>|\$\{?[A-Za-z_]|your|xxx|\*+$|\.\.\.|changeme|placeholder)/i.test(value) ? `${name}${sep}${REDACTED}` : whole,
  );
  return assigned.replace(/[^\s"'`(),;<>=:]+/g, (word) => (looksLikeCredential(word) ? REDACTED : word));
}
