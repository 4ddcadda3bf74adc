/**
 * A proposal never carries a secret value: values of secret inputs are removed, and a value
 * that looks like a real credential makes its input secret (and goes too).
 */
import type { RegistryFile } from "../registry/types.js";
import { looksLikeCredential, looksSecret } from "./env-findings.js";

export interface StripResult {
  entry: RegistryFile;
  /** Document paths whose values were removed (for the PR body). */
  removed: string[];
}

interface Input {
  name?: string;
  isSecret?: boolean;
  value?: string;
  default?: string;
  variables?: Record<string, Input | undefined>;
}

const TEMPLATE = /\{[A-Za-z_][A-Za-z0-9_]*\}/;

export function stripSecrets(entry: RegistryFile): StripResult {
  const copy = structuredClone(entry);
  const removed: string[] = [];
  const visit = (input: Input, where: string, named: boolean) => {
    const secretName = named && input.name !== undefined && looksSecret(input.name);
    for (const field of ["value", "default"] as const) {
      const v = input[field];
      if (v === undefined || TEMPLATE.test(v)) continue;
      if (input.isSecret || secretName || looksLikeCredential(v)) {
        delete input[field];
        input.isSecret = true;
        removed.push(`${where}.${field}`);
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
  return { entry: copy, removed };
}
