/**
 * The request headers a 2026-07-28 request mirrors from its body, checked before it is served:
 * `MCP-Protocol-Version` and `Mcp-Method` on every request that names its version (the SDK's
 * classifier already compares their values), `Mcp-Name` equal to `params.name` / `params.uri`, and
 * on `tools/call` the `Mcp-Param-{Name}` headers the tool's `inputSchema` asks for with
 * `x-mcp-header`. Values may come as `=?base64?…?=` (UTF-8) and are decoded before comparing;
 * outside that sentinel a value must be visible ASCII, space or tab. Any disagreement is a
 * HeaderMismatch: HTTP 400 with JSON-RPC error -32020.
 *
 * The `x-mcp-header` declarations are read once per routing table (per catalog object, held
 * weakly), and only tools that have some are kept: a call to any other tool costs two map lookups.
 */
import type { IncomingHttpHeaders } from "node:http";
import { PROTOCOL_VERSION_META_KEY } from "@modelcontextprotocol/server";
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import type { SessionScope } from "../gateway/gateway.js";
import type { RoutingTable } from "../gateway/routing-table.js";

/** HeaderMismatch: the headers disagree with the body, or a required one is missing or malformed. */
export const HEADER_MISMATCH = -32020;

/**
 * What `Mcp-Name` must say for a request that names its target (2026-07-28: tools/call,
 * prompts/get, resources/read; the Tasks extension's methods: the task id).
 */
const NAMED_TARGETS: Readonly<Record<string, "name" | "uri" | "taskId">> = {
  "tools/call": "name",
  "prompts/get": "name",
  "resources/read": "uri",
  "tasks/get": "taskId",
  "tasks/update": "taskId",
  "tasks/cancel": "taskId",
};

/** An `x-mcp-header` parameter of one tool: where its value sits in `arguments`, and its header. */
interface ParamHeader {
  /** The header as Node's `req.headers` keys it (lower case): `mcp-param-region`. */
  readonly key: string;
  /** The header as the schema names it, for messages: `Mcp-Param-Region`. */
  readonly label: string;
  /** The chain of `properties` keys from the schema root to the parameter. */
  readonly path: readonly string[];
  /** integer (or number) parameters compare numerically: `42.0` matches 42. */
  readonly numeric: boolean;
}

/** RFC 9110 token (`1*tchar`): what an `x-mcp-header` value must be. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A character a header value may not carry as plain text (RFC 9110 field values: visible ASCII, space, tab). */
const UNSAFE = /[^\t\x20-\x7e]/;
const OWS = /^[ \t]+|[ \t]+$/g;
const SENTINEL_PREFIX = "=?base64?";
const SENTINEL_SUFFIX = "?=";
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const DECIMAL = /^-?\d+(?:\.\d+)?$/;
/** Schemas nest properties this deep at most before the walk stops looking (upstream schemas are untrusted). */
const MAX_DEPTH = 32;
const UTF8 = new TextDecoder("utf-8", { fatal: true });

const NONE: ReadonlyMap<string, readonly ParamHeader[]> = new Map();
/** Per catalog (`table.tools` for /mcp, a server's `tools` array for its endpoint): tool name -> its parameter headers. */
const declaredByCatalog = new WeakMap<object, ReadonlyMap<string, readonly ParamHeader[]>>();

function one(headers: IncomingHttpHeaders, key: string): string | undefined {
  const value = headers[key];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * A header value as the body would say it: surrounding spaces and tabs dropped, a
 * `=?base64?…?=` value decoded (canonical Base64 of UTF-8); undefined when the value carries a
 * character a header may not, or a broken Base64 payload.
 */
export function decodeHeaderValue(raw: string): string | undefined {
  const value = raw.replace(OWS, "");
  if (UNSAFE.test(value)) return undefined;
  if (!(value.startsWith(SENTINEL_PREFIX) && value.endsWith(SENTINEL_SUFFIX) && value.length >= SENTINEL_PREFIX.length + SENTINEL_SUFFIX.length)) return value;
  const payload = value.slice(SENTINEL_PREFIX.length, value.length - SENTINEL_SUFFIX.length);
  if (!BASE64.test(payload)) return undefined;
  try {
    return UTF8.decode(Buffer.from(payload, "base64"));
  } catch {
    return undefined;
  }
}

/**
 * Why a 2026-07-28 request's standard headers do not mirror its body, or undefined: a request
 * that names its protocol version in `_meta` must carry `MCP-Protocol-Version` and `Mcp-Method`
 * (a version-less `server/discover` probe need not), and tools/call, prompts/get and
 * resources/read an `Mcp-Name` equal, once decoded, to `params.name` / `params.uri`.
 */
export function standardHeaderMismatch(message: { method: string; params?: Record<string, unknown> }, headers: IncomingHttpHeaders): string | undefined {
  const meta = message.params?._meta as Record<string, unknown> | undefined;
  if (typeof meta?.[PROTOCOL_VERSION_META_KEY] === "string") {
    if (one(headers, "mcp-protocol-version") === undefined) return `Header mismatch: the MCP-Protocol-Version header is missing; send it equal to _meta["${PROTOCOL_VERSION_META_KEY}"]`;
    if (one(headers, "mcp-method") === undefined) return `Header mismatch: the Mcp-Method header is missing; send Mcp-Method: ${message.method}`;
  }
  const field = NAMED_TARGETS[message.method];
  if (!field) return undefined;
  const expected = message.params?.[field];
  if (typeof expected !== "string") return undefined;
  const raw = one(headers, "mcp-name");
  if (raw === undefined) return `Header mismatch: ${message.method} needs an Mcp-Name header equal to params.${field}`;
  const given = decodeHeaderValue(raw);
  if (given === undefined) return `Header mismatch: Mcp-Name ${JSON.stringify(raw)} carries characters a header may not, or a broken =?base64?…?= value`;
  return given === expected ? undefined : `Header mismatch: Mcp-Name ${JSON.stringify(given)} does not match params.${field} ${JSON.stringify(expected)}`;
}

/** Collects the `x-mcp-header` parameters reachable from the schema root through `properties` alone. */
function collect(schema: unknown, path: readonly string[], into: ParamHeader[]): void {
  if (path.length >= MAX_DEPTH) return;
  const properties = (schema as { properties?: unknown } | null | undefined)?.properties;
  if (properties === null || typeof properties !== "object") return;
  for (const [key, child] of Object.entries(properties as Record<string, unknown>)) {
    if (child === null || typeof child !== "object") continue;
    const here = [...path, key];
    const { "x-mcp-header": name, type } = child as { "x-mcp-header"?: unknown; type?: unknown };
    // An unusable annotation (not a token) names no header: the gateway forwards and ignores what it does not recognise.
    if (typeof name === "string" && TOKEN.test(name)) into.push({ key: `mcp-param-${name.toLowerCase()}`, label: `Mcp-Param-${name}`, path: here, numeric: type === "integer" || type === "number" });
    collect(child, here, into);
  }
}

function declarations(tools: Iterable<readonly [string, Tool]>): ReadonlyMap<string, readonly ParamHeader[]> {
  let found: Map<string, readonly ParamHeader[]> | undefined;
  for (const [name, tool] of tools) {
    const params: ParamHeader[] = [];
    collect(tool.inputSchema, [], params);
    if (params.length > 0) (found ??= new Map()).set(name, params);
  }
  return found ?? NONE;
}

/** The parameter headers of the tools a scope lists, by the names it lists them under. */
function declaredFor(table: RoutingTable, scope: SessionScope): ReadonlyMap<string, readonly ParamHeader[]> {
  const catalog: object | undefined = scope.kind === "all" ? table.tools : table.servers.get(scope.prefix)?.tools;
  if (!catalog) return NONE;
  let declared = declaredByCatalog.get(catalog);
  if (!declared) {
    declared = scope.kind === "all" ? declarations(Array.from(table.tools, ([name, route]) => [name, route.tool] as const)) : declarations((catalog as readonly Tool[]).map((t) => [t.name, t] as const));
    declaredByCatalog.set(catalog, declared);
  }
  return declared;
}

function valueAt(root: unknown, path: readonly string[]): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== "object" || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/**
 * Why a `tools/call`'s `Mcp-Param-*` headers do not match its arguments, or undefined. The tool is
 * looked up as the scope lists it (`<prefix>__<tool>` on /mcp, the upstream's name on a server's
 * endpoint). For each parameter its schema marks with `x-mcp-header`: a header that is present must
 * be well-formed; an argument that is given (not null) needs its header, equal once decoded
 * (integers numerically). Headers of tools without such parameters are forwarded and ignored.
 */
export function paramHeaderMismatch(table: RoutingTable, scope: SessionScope, params: Record<string, unknown> | undefined, headers: IncomingHttpHeaders): string | undefined {
  const name = params?.name;
  if (typeof name !== "string") return undefined;
  const declared = declaredFor(table, scope).get(name);
  if (!declared) return undefined;
  const args = params?.arguments;
  for (const param of declared) {
    const raw = one(headers, param.key);
    const given = raw === undefined ? undefined : decodeHeaderValue(raw);
    if (raw !== undefined && given === undefined) return `Header mismatch: ${param.label} ${JSON.stringify(raw)} carries characters a header may not, or a broken =?base64?…?= value`;
    const value = valueAt(args, param.path);
    if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") continue;
    const where = `arguments.${param.path.join(".")}`;
    if (given === undefined) return `Header mismatch: ${where} is given but the ${param.label} header is missing (tool ${name} mirrors it, see its inputSchema's x-mcp-header)`;
    const equal = given === String(value) || (param.numeric && typeof value === "number" && DECIMAL.test(given) && Number(given) === value);
    if (!equal) return `Header mismatch: ${param.label} ${JSON.stringify(given)} does not match ${where} ${JSON.stringify(value)}`;
  }
  return undefined;
}
