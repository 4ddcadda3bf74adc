/**
 * Values of declared inputs (environment variables, HTTP headers, URL template variables): a
 * fixed `value` (a `{name}` template filled from its `variables`), else the daemon's secret
 * source by name, else `default`. Secret inputs only ever come from the secret source. The
 * values that came from it are collected so logs and errors can scrub them; a required input
 * without a value is collected by NAME, so the caller can fail before starting anything.
 */
import type { Input, KeyValueInput } from "../registry/types.js";
import { envStyleName } from "../registry/store-lookups.js";
import type { SecretSource } from "./secret-source.js";

/** What a resolution found: names only in `secretNames` and `missing`; `secretValues` is never logged. */
export interface Resolution {
  secretNames: string[];
  secretValues: string[];
  missing: string[];
}

export function newResolution(): Resolution {
  return { secretNames: [], secretValues: [], missing: [] };
}

/** The value of one input: a secret from the secret source; otherwise `value`, the source, or `default`. */
export function resolveInput(name: string, input: Input | KeyValueInput, secrets: SecretSource, r: Resolution): string | undefined {
  if (input.isSecret) {
    const value = secrets.get(name);
    if (value === undefined) {
      if (input.isRequired) r.missing.push(name);
      return undefined;
    }
    r.secretNames.push(name);
    r.secretValues.push(value);
    return value;
  }
  const value = input.value !== undefined ? undefined : secrets.get(name);
  const resolved = input.value ?? value ?? input.default;
  if (resolved === undefined && input.isRequired) r.missing.push(name);
  return resolved;
}

/**
 * Substitutes `{var}` placeholders from `variables`; undefined when a declared variable has no
 * value. Placeholders that name no variable are left as they are.
 */
export function substitute(template: string, variables: Record<string, Input | undefined> | undefined, secrets: SecretSource, r: Resolution): string | undefined {
  if (!variables) return template;
  let incomplete = false;
  const out = template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, key: string) => {
    const input = variables[key];
    if (!input) return whole;
    const value = resolveInput(key, input, secrets, r);
    if (value === undefined) incomplete = true;
    return value ?? "";
  });
  return incomplete ? undefined : out;
}


/**
 * The value of an HTTP header: its `value` template filled from `variables` (a secret header is
 * written `value: "Bearer {TOKEN}"` with `TOKEN` a secret variable), else looked up by the header
 * name and then by its env-style name (`X-API-Key`, then `X_API_KEY`). A missing required header
 * is reported under its env-style name, the name an operator can set.
 */
export function resolveHeader(header: KeyValueInput, secrets: SecretSource, r: Resolution): string | undefined {
  if (header.value !== undefined) return substitute(header.value, header.variables, secrets, r);
  const alias = envStyleName(header.name);
  const lookup: SecretSource = {
    description: secrets.description,
    get: (name) => secrets.get(name) ?? (name === header.name && alias !== name ? secrets.get(alias) : undefined),
  };
  const missing = r.missing.length;
  const value = resolveInput(header.name, header, lookup, r);
  if (r.missing.length > missing) r.missing.splice(missing, r.missing.length - missing, alias);
  return value;
}
