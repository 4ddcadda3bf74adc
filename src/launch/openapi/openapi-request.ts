/**
 * A tool call's arguments as an HTTP request: path parameters encoded into the template, query
 * parameters serialized by their style (arrays as repeated keys by default), headers, cookies,
 * the body as JSON, form or text, and the credentials placed where `router.openapi.auth` says.
 */
import type { AuthPlacement } from "./openapi-auth.js";
import { isObject } from "./openapi-refs.js";
import type { OpenApiOperation, ParameterBinding } from "./openapi-tools.js";

export interface HttpRequestPlan {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: string | undefined;
}

/** A call whose arguments cannot make a request; its message goes back to the model. */
export class ArgumentError extends Error {
  override readonly name = "ArgumentError";
}

export function buildRequest(op: OpenApiOperation, args: Record<string, unknown>, auth: AuthPlacement): HttpRequestPlan {
  const known = new Set([...op.parameters.map((p) => p.property), ...(op.body ? ["body"] : [])]);
  const unknown = Object.keys(args).filter((k) => !known.has(k));
  if (unknown.length) {
    throw new ArgumentError(`unknown argument${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}; ${op.tool.name} takes ${[...known].join(", ") || "no arguments"}`);
  }
  const missing = [...op.parameters.filter((p) => p.required).map((p) => p.property), ...(op.body?.required ? ["body"] : [])].filter((k) => args[k] === undefined || args[k] === null);
  if (missing.length) throw new ArgumentError(`missing required argument${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`);

  let path = op.path;
  const query = new URLSearchParams();
  const headers: Record<string, string> = { accept: "application/json, */*;q=0.5", "user-agent": "mcp-router" };
  const cookies: string[] = [];
  for (const p of op.parameters) {
    const value = args[p.property];
    if (value === undefined || value === null) continue;
    if (p.in === "path") path = path.split(`{${p.name}}`).join(pathValue(p, value));
    else if (p.in === "query") addQuery(query, p, value);
    else if (p.in === "header") headers[p.name.toLowerCase()] = p.json ? JSON.stringify(value) : flat(value, ",");
    else cookies.push(`${p.name}=${encodeURIComponent(p.json ? JSON.stringify(value) : flat(value, ","))}`);
  }
  if (cookies.length) headers.cookie = cookies.join("; ");
  for (const [name, value] of Object.entries(auth.query)) query.set(name, value);
  Object.assign(headers, auth.headers);

  const url = new URL(op.baseUrl.href);
  url.pathname = `${url.pathname.replace(/\/+$/, "")}${path.startsWith("/") ? path : `/${path}`}`;
  for (const [k, v] of query) url.searchParams.append(k, v);

  let body: string | undefined;
  const raw = args.body;
  if (op.body && raw !== undefined && raw !== null) {
    headers["content-type"] = op.body.contentType;
    if (op.body.encoding === "json") body = JSON.stringify(raw);
    else if (op.body.encoding === "form") {
      if (!isObject(raw)) throw new ArgumentError("body must be an object (it is sent as form fields)");
      const form = new URLSearchParams();
      for (const [k, v] of Object.entries(raw)) for (const item of Array.isArray(v) ? v : [v]) form.append(k, scalar(item));
      body = form.toString();
    } else body = typeof raw === "string" ? raw : JSON.stringify(raw);
  }
  return { method: op.method.toUpperCase(), url, headers, body };
}

function scalar(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

function flat(value: unknown, separator: string): string {
  if (Array.isArray(value)) return value.map(scalar).join(separator);
  if (isObject(value)) return Object.entries(value).flatMap(([k, v]) => [k, scalar(v)]).join(separator);
  return scalar(value);
}

/** `simple` style (the default for path parameters), with `label` and `matrix` for completeness. */
function pathValue(p: ParameterBinding, value: unknown): string {
  const encode = (v: unknown): string => encodeURIComponent(scalar(v));
  if (p.json) return encodeURIComponent(JSON.stringify(value));
  const items = Array.isArray(value) ? value.map(encode) : isObject(value) ? Object.entries(value).map(([k, v]) => (p.explode ? `${encode(k)}=${encode(v)}` : `${encode(k)},${encode(v)}`)) : [encode(value)];
  if (p.style === "label") return `.${items.join(p.explode ? "." : ",")}`;
  if (p.style === "matrix") return p.explode && Array.isArray(value) ? items.map((i) => `;${p.name}=${i}`).join("") : `;${p.name}=${items.join(",")}`;
  return items.join(",");
}

function addQuery(query: URLSearchParams, p: ParameterBinding, value: unknown): void {
  if (p.json) {
    query.append(p.name, JSON.stringify(value));
    return;
  }
  if (Array.isArray(value)) {
    if (p.explode) for (const item of value) query.append(p.name, scalar(item));
    else query.append(p.name, value.map(scalar).join(p.style === "spaceDelimited" ? " " : p.style === "pipeDelimited" ? "|" : ","));
    return;
  }
  if (isObject(value)) {
    if (p.style === "deepObject") for (const [k, v] of Object.entries(value)) query.append(`${p.name}[${k}]`, scalar(v));
    else if (p.explode) for (const [k, v] of Object.entries(value)) query.append(k, scalar(v));
    else query.append(p.name, flat(value, ","));
    return;
  }
  query.append(p.name, scalar(value));
}
