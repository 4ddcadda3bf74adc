/**
 * `router.openapi.auth`: credentials for the API, resolved from the daemon's secret source at
 * call time. bearer -> `Authorization: Bearer <secret>`; apiKey -> header or query parameter
 * `name`; basic -> `username` and the secret as password. Only the secret's NAME ever appears in
 * messages; every form of its value is returned for scrubbing.
 */
import type { OpenApiAuth } from "../../registry/types.js";
import type { SecretSource } from "../../secrets/secret-source.js";

export interface AuthPlacement {
  headers: Record<string, string>;
  query: Record<string, string>;
  /** The secret in every form it is sent in (raw, encoded), for scrubbing results and logs. */
  secretValues: string[];
}

export type AuthResolution = { ok: true; placement: AuthPlacement } | { ok: false; message: string };

/** What is wrong with an auth block (checked at prepare), or undefined. */
export function authConfigProblem(auth: OpenApiAuth | undefined): string | undefined {
  if (!auth) return undefined;
  if (!auth.secret) return `router.openapi.auth of type ${auth.type} needs \`secret\`: the name of the secret holding the ${auth.type === "basic" ? "password" : auth.type === "bearer" ? "token" : "key"}`;
  if (auth.type === "apiKey" && !auth.name) return "router.openapi.auth of type apiKey needs `name`: the header or query parameter that carries the key";
  if (auth.type === "basic" && auth.username === undefined) return "router.openapi.auth of type basic needs `username`";
  return undefined;
}

export function resolveAuth(auth: OpenApiAuth | undefined, secrets: SecretSource): AuthResolution {
  const placement: AuthPlacement = { headers: {}, query: {}, secretValues: [] };
  if (!auth) return { ok: true, placement };
  const problem = authConfigProblem(auth);
  if (problem) return { ok: false, message: `${problem}. Fix the registry file.` };
  const name = auth.secret as string;
  const value = secrets.get(name);
  if (value === undefined) {
    return { ok: false, message: `the secret ${name} (router.openapi.auth.secret) is not set in ${secrets.description}. Set ${name} there and call again.` };
  }
  placement.secretValues.push(value, encodeURIComponent(value), new URLSearchParams({ v: value }).toString().slice(2));
  if (auth.type === "bearer") placement.headers.authorization = `Bearer ${value}`;
  else if (auth.type === "basic") {
    const encoded = Buffer.from(`${auth.username}:${value}`, "utf8").toString("base64");
    placement.headers.authorization = `Basic ${encoded}`;
    placement.secretValues.push(encoded);
  } else if (auth.in === "query") placement.query[auth.name as string] = value;
  else placement.headers[(auth.name as string).toLowerCase()] = value;
  return { ok: true, placement };
}
