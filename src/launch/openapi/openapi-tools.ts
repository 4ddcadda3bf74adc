/**
 * Turns the operations of an OpenAPI document into MCP tools: names from `operationId` (or
 * `<method>_<path>`), made valid and unique; descriptions from summary and description; an
 * input schema with one property per path/query/header/cookie parameter plus `body`; and the
 * bindings that map a call's arguments back onto an HTTP request.
 */
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import type { OpenApi } from "../../registry/types.js";
import { operationSelected } from "./openapi-filter.js";
import type { Pointer } from "./openapi-refs.js";
import { deref, inlineSchema, isObject, joinText } from "./openapi-refs.js";
import type { JsonObject, OpenApiSpec } from "./openapi-spec.js";
import { specError } from "./openapi-spec.js";

export const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];
export type ParameterLocation = "path" | "query" | "header" | "cookie";

const TOOL_NAME_MAX = 64;
/** Header parameters OpenAPI says to ignore: the request sets them itself. */
const IGNORED_HEADERS = new Set(["accept", "content-type", "authorization"]);

export interface ParameterBinding {
  /** The tool argument (input schema property). */
  property: string;
  /** The parameter's name in the request. */
  name: string;
  in: ParameterLocation;
  required: boolean;
  /** `form`, `simple`, `deepObject`, `spaceDelimited`, `pipeDelimited`... (OpenAPI defaults apply). */
  style: string;
  explode: boolean;
  /** Parameters given by `content` instead of `schema` are sent as serialized JSON. */
  json: boolean;
}

export interface BodyBinding {
  property: "body";
  contentType: string;
  required: boolean;
  encoding: "json" | "form" | "text";
}

export interface OpenApiOperation {
  readonly tool: Tool;
  readonly method: HttpMethod;
  /** The path template, e.g. `/pets/{petId}`. */
  readonly path: string;
  readonly operationId: string | undefined;
  /** Absolute base URL the path is appended to. */
  readonly baseUrl: URL;
  readonly parameters: readonly ParameterBinding[];
  readonly body: BodyBinding | undefined;
}

export interface CompiledApi {
  /** The selected operations, in document order. */
  readonly operations: readonly OpenApiOperation[];
  /** Operations in the document before filtering. */
  readonly total: number;
  readonly byName: ReadonlyMap<string, OpenApiOperation>;
}

interface RawOperation {
  method: HttpMethod;
  path: string;
  at: Pointer;
  pathItem: JsonObject;
  pathItemAt: Pointer;
  op: JsonObject;
  name: string;
}

/** Every operation of the document, named, filtered by `include`/`exclude`, with its bindings. */
export function compileOpenApi(spec: OpenApiSpec, config: OpenApi): CompiledApi {
  const raw = collectOperations(spec);
  const operations: OpenApiOperation[] = [];
  for (const r of raw) {
    const operationId = typeof r.op.operationId === "string" ? r.op.operationId : undefined;
    const tags = Array.isArray(r.op.tags) ? r.op.tags.filter((t): t is string => typeof t === "string") : [];
    if (!operationSelected({ method: r.method, path: r.path, tags, operationId, toolName: r.name }, config.include, config.exclude)) continue;
    operations.push(compileOperation(spec, config, r, operationId));
  }
  return { operations, total: raw.length, byName: new Map(operations.map((o) => [o.tool.name, o])) };
}

function collectOperations(spec: OpenApiSpec): RawOperation[] {
  const paths = isObject(spec.document.paths) ? spec.document.paths : {};
  const out: RawOperation[] = [];
  const used = new Set<string>();
  for (const [path, item] of Object.entries(paths)) {
    const { node, at: pathItemAt } = deref(spec, item, ["paths", path]);
    if (!isObject(node)) throw specError(spec.locate(["paths", path]), `has a path item ${path} that is not a mapping`, "Each entry of `paths` maps HTTP methods to operations.");
    for (const method of HTTP_METHODS) {
      const op = node[method];
      if (op === undefined) continue;
      const at = [...pathItemAt, method];
      if (!isObject(op)) throw specError(spec.locate(at), `has an operation ${method.toUpperCase()} ${path} that is not a mapping`, "An operation is a mapping with `responses`, `parameters`, ...");
      const base = typeof op.operationId === "string" && op.operationId.trim() !== "" ? op.operationId : [method, ...path.split("/").filter((seg) => seg !== "")].join("_").replace(/[{}]/g, "");
      out.push({ method, path, at, pathItem: node, pathItemAt, op, name: uniqueName(toolName(base), used) });
    }
  }
  return out;
}

/** A valid MCP tool name (`^[a-zA-Z0-9_-]{1,64}$`) from an operationId or `<method>_<path>`. */
export function toolName(raw: string): string {
  const cleaned = raw.replace(/[^A-Za-z0-9_-]+/g, "_").replace(/^_+|_+$/g, "");
  return (cleaned || "operation").slice(0, TOOL_NAME_MAX);
}

function uniqueName(base: string, used: Set<string>): string {
  let name = base;
  for (let n = 2; used.has(name); n += 1) {
    const suffix = `_${n}`;
    name = `${base.slice(0, TOOL_NAME_MAX - suffix.length)}${suffix}`;
  }
  used.add(name);
  return name;
}

function compileOperation(spec: OpenApiSpec, config: OpenApi, r: RawOperation, operationId: string | undefined): OpenApiOperation {
  const params = mergedParameters(spec, r);
  const body = requestBody(spec, r);
  const properties: Record<string, JsonObject> = {};
  const required: string[] = [];
  const bindings: ParameterBinding[] = [];
  const names = propertyNames(params.map((p) => ({ name: p.name, in: p.in })), body !== undefined);
  params.forEach((p, i) => {
    const property = names[i] as string;
    const schema = p.schema;
    const renamed = property !== p.name;
    const description = joinText(p.description, renamed ? `(${p.in} parameter \`${p.name}\`)` : undefined, p.deprecated ? "Deprecated." : undefined);
    properties[property] = description ? { ...schema, description } : schema;
    const isRequired = p.in === "path" || p.required;
    if (isRequired) required.push(property);
    bindings.push({ property, name: p.name, in: p.in, required: isRequired, style: p.style, explode: p.explode, json: p.json });
  });
  if (body) {
    properties.body = body.description ? { ...body.schema, description: body.description } : body.schema;
    if (body.binding.required) required.push("body");
  }
  const description = joinText(r.op.summary, r.op.description, r.op.deprecated === true ? "Deprecated." : undefined, body?.note) || `${r.method.toUpperCase()} ${r.path}`;
  const readOnly = r.method === "get" || r.method === "head" || r.method === "options";
  const tool: Tool = {
    name: r.name,
    description,
    inputSchema: { type: "object", properties: properties as Record<string, object>, ...(required.length ? { required } : {}), additionalProperties: false },
    annotations: {
      ...(typeof r.op.summary === "string" ? { title: r.op.summary } : {}),
      readOnlyHint: readOnly,
      destructiveHint: r.method === "delete",
      idempotentHint: readOnly || r.method === "put" || r.method === "delete",
      openWorldHint: true,
    },
  };
  return { tool, method: r.method, path: r.path, operationId, baseUrl: baseUrlOf(spec, config, r), parameters: bindings, body: body?.binding };
}

interface Parameter {
  name: string;
  in: ParameterLocation;
  required: boolean;
  deprecated: boolean;
  description: unknown;
  schema: JsonObject;
  style: string;
  explode: boolean;
  json: boolean;
}

/** Path-item parameters overridden by the operation's (same name and location), both dereferenced. */
function mergedParameters(spec: OpenApiSpec, r: RawOperation): Parameter[] {
  const byKey = new Map<string, Parameter>();
  for (const [list, at] of [[r.pathItem.parameters, [...r.pathItemAt, "parameters"]], [r.op.parameters, [...r.at, "parameters"]]] as const) {
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw specError(spec.locate(at), "has `parameters` that is not a list", "`parameters` is a list of parameter objects.");
    list.forEach((entry, i) => {
      const p = parameter(spec, entry, [...at, i]);
      if (p) byKey.set(`${p.in}:${p.in === "header" ? p.name.toLowerCase() : p.name}`, p);
    });
  }
  return [...byKey.values()];
}

function parameter(spec: OpenApiSpec, entry: unknown, at: Pointer): Parameter | undefined {
  const { node, at: where } = deref(spec, entry, at);
  if (!isObject(node) || typeof node.name !== "string" || !["path", "query", "header", "cookie"].includes(node.in as string)) {
    throw specError(spec.locate(at), "has a parameter without a valid `name` and `in` (path, query, header or cookie)", "Give every parameter a `name` and an `in`.");
  }
  const location = node.in as ParameterLocation;
  if (location === "header" && IGNORED_HEADERS.has(node.name.toLowerCase())) return undefined;
  let schema: JsonObject = {};
  let json = false;
  if (node.schema !== undefined) schema = inlineSchema(spec, node.schema, [...where, "schema"]);
  else if (isObject(node.content)) {
    const [mediaType, media] = Object.entries(node.content)[0] ?? [];
    if (mediaType !== undefined && isObject(media) && media.schema !== undefined) schema = inlineSchema(spec, media.schema, [...where, "content", mediaType, "schema"]);
    json = true;
  }
  if (node.example !== undefined && schema.examples === undefined) schema = { ...schema, examples: [node.example] };
  const style = typeof node.style === "string" ? node.style : location === "query" || location === "cookie" ? "form" : "simple";
  return {
    name: node.name,
    in: location,
    required: node.required === true,
    deprecated: node.deprecated === true,
    description: node.description,
    schema,
    style,
    explode: typeof node.explode === "boolean" ? node.explode : style === "form",
    json,
  };
}

/**
 * Input property names: a parameter's own name when it is unique (made valid for clients that
 * restrict property names to `[A-Za-z0-9_.-]{1,64}`); names used twice (`id` in the path and in
 * the query, or a parameter called `body` next to a request body) become `<in>_<name>`.
 */
export function propertyNames(params: readonly { name: string; in: ParameterLocation }[], hasBody: boolean): string[] {
  const clean = params.map((p) => p.name.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 64) || "_");
  const count = new Map<string, number>();
  for (const c of [...clean, ...(hasBody ? ["body"] : [])]) count.set(c, (count.get(c) ?? 0) + 1);
  const used = new Set<string>(hasBody ? ["body"] : []);
  return clean.map((c, i) => {
    let name = (count.get(c) ?? 0) > 1 ? `${params[i]?.in}_${c}`.slice(0, 64) : c;
    const base = name;
    for (let n = 2; used.has(name); n += 1) name = `${base.slice(0, 62 - String(n).length)}_${n}`;
    used.add(name);
    return name;
  });
}

function requestBody(spec: OpenApiSpec, r: RawOperation): { binding: BodyBinding; schema: JsonObject; description: string; note?: string } | undefined {
  if (r.op.requestBody === undefined) return undefined;
  const { node, at } = deref(spec, r.op.requestBody, [...r.at, "requestBody"]);
  if (!isObject(node) || !isObject(node.content)) return undefined;
  const types = Object.keys(node.content);
  const pick = types.find((t) => /^application\/(.+\+)?json\b/i.test(t)) ?? types.find((t) => /^application\/x-www-form-urlencoded\b/i.test(t)) ?? types.find((t) => /^text\//i.test(t));
  const required = node.required === true;
  const description = typeof node.description === "string" ? node.description : "";
  if (pick === undefined) {
    return types.length === 0 ? undefined : { binding: { property: "body", contentType: types[0] as string, required, encoding: "text" }, schema: { type: "string" }, description: joinText(description, `Sent as ${types[0]} (text).`) };
  }
  const media = node.content[pick];
  const encoding = /json/i.test(pick) ? "json" : /x-www-form-urlencoded/i.test(pick) ? "form" : "text";
  const schema = encoding === "text" ? { type: "string" } : isObject(media) && media.schema !== undefined ? inlineSchema(spec, media.schema, [...at, "content", pick, "schema"]) : {};
  return { binding: { property: "body", contentType: pick, required, encoding }, schema, description };
}

/** `router.openapi.baseUrl`, else the first `servers` entry of the operation, path item or document, with variable defaults. */
function baseUrlOf(spec: OpenApiSpec, config: OpenApi, r: RawOperation): URL {
  const shown = `${r.method.toUpperCase()} ${r.path}`;
  if (config.baseUrl !== undefined) return absoluteUrl(spec, config.baseUrl, shown, "router.openapi.baseUrl", r.at);
  const [servers, at] = Array.isArray(r.op.servers) && r.op.servers.length ? [r.op.servers, [...r.at, "servers"]] : Array.isArray(r.pathItem.servers) && r.pathItem.servers.length ? [r.pathItem.servers, [...r.pathItemAt, "servers"]] : [spec.document.servers, ["servers"]];
  const first = Array.isArray(servers) ? servers[0] : undefined;
  if (!isObject(first) || typeof first.url !== "string") return absoluteUrl(spec, "/", shown, "the document's default server `/`", at);
  const variables = isObject(first.variables) ? first.variables : {};
  const url = first.url.replace(/\{([^}]+)\}/g, (whole, name: string) => {
    const variable = variables[name];
    return isObject(variable) && variable.default !== undefined ? String(variable.default) : whole;
  });
  return absoluteUrl(spec, url, shown, `servers[0].url ${JSON.stringify(first.url)}`, [...at, 0, "url"]);
}

function absoluteUrl(spec: OpenApiSpec, raw: string, op: string, what: string, at: Pointer): URL {
  let url: URL;
  try {
    url = spec.url ? new URL(raw, spec.url) : new URL(raw);
  } catch {
    throw specError(spec.locate(at), `gives ${op} no absolute base URL: ${what} is relative${spec.url ? " or invalid" : " and the document was read from a file"}`, "Set router.openapi.baseUrl to the API's address, e.g. `https://api.example.com/v1`.");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw specError(spec.locate(at), `gives ${op} the base URL ${url.protocol}//..., which is not http(s)`, "Set router.openapi.baseUrl to the API's http(s) address.");
  }
  if (/%7B[^/]*%7D/i.test(url.href)) {
    throw specError(spec.locate(at), `gives ${op} a base URL with a server variable that has no default (${what})`, "Give the variable a `default`, or set router.openapi.baseUrl.");
  }
  return url;
}
