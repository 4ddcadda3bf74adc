/**
 * Loads the OpenAPI document of a `router.openapi` server: from a URL (undici, with a timeout
 * and a size limit) or from a file in the registry repo; JSON or YAML; OpenAPI 3.0 or 3.1.
 * Every problem is an OpenApiSpecError that names the document and, for YAML and JSON text, the
 * line of the offending node (the launcher reports it as PREPARE_FAILED).
 */
import { readFile, realpath } from "node:fs/promises";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import type { Dispatcher } from "undici";
import { request } from "undici";
import { isMap, isSeq, LineCounter, parseDocument } from "yaml";
import type { Node } from "yaml";
import { isUrl } from "../../registry/referenced-files.js";
import type { RegistryServer } from "../../registry/types.js";

/** Documents larger than this are refused (GitHub's full REST description is about 12 MiB). */
export const MAX_SPEC_BYTES = 32 * 1024 * 1024;
const SPEC_TIMEOUT_MS = 30_000;

export type JsonObject = Record<string, unknown>;

export interface OpenApiSpec {
  /** The parsed document. */
  readonly document: JsonObject;
  /** `3.0` or `3.1`: how schemas are read (3.0's `nullable`, boolean `exclusiveMinimum`). */
  readonly dialect: "3.0" | "3.1";
  /** Where it came from: the URL or the path relative to the registry root (for messages). */
  readonly source: string;
  /** The document's URL when loaded from one (relative `servers` URLs resolve against it). */
  readonly url: URL | undefined;
  /** `file:line:column` (or the source) of a JSON pointer in the document, for error messages. */
  locate(pointer: readonly (string | number)[]): string;
}

export interface SpecLoadOptions {
  dispatcher?: Dispatcher;
  timeoutMs?: number;
  maxBytes?: number;
}

/** Loads and checks the document of a `router.openapi` server. */
export async function loadOpenApiSpec(server: RegistryServer, options: SpecLoadOptions = {}): Promise<OpenApiSpec> {
  const config = server.entry.router?.openapi;
  if (!config) throw prepareError("the server has no router.openapi block", "Add `router.openapi.spec` (a URL or a path in the registry repo).");
  const { text, source, url } = isUrl(config.spec) ? await fetchSpec(config.spec, options) : await readSpecFile(server, config.spec, options.maxBytes ?? MAX_SPEC_BYTES);
  return parseOpenApiText(text, source, url);
}

/** Parses and checks a document's text (JSON or YAML). Throws an OpenApiSpecError with a location. */
export function parseOpenApiText(text: string, source: string, url?: URL): OpenApiSpec {
  let parsed: unknown;
  const trimmed = text.trimStart();
  try {
    parsed = trimmed.startsWith("{") ? JSON.parse(trimmed) : parseYaml(text, { schema: "core", maxAliasCount: 100, prettyErrors: true });
  } catch (error) {
    const detail = syntaxDetail(text, error);
    throw specError(`${source}${detail.at}`, `is neither valid JSON nor valid YAML: ${detail.message}`, "Fix the syntax (a YAML or JSON linter shows the spot), or point router.openapi.spec at the right document.");
  }
  let located: ((pointer: readonly (string | number)[]) => string) | undefined;
  const locate = (pointer: readonly (string | number)[]): string => {
    located ??= locator(text, source);
    return located(pointer);
  };
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw specError(source, "is not an OpenAPI document: its top level is not a mapping", "Point router.openapi.spec at an OpenAPI 3.0 or 3.1 document (it starts with `openapi: 3.x.y`).");
  }
  const document = parsed as JsonObject;
  if (typeof document.swagger === "string") {
    throw specError(locate(["swagger"]), `is a Swagger ${document.swagger} document; only OpenAPI 3.0 and 3.1 are supported`, "Convert it first (e.g. `npx swagger2openapi spec.yaml -o openapi.yaml`) and commit the result to the registry repo.");
  }
  const version = document.openapi;
  if (typeof version !== "string") {
    throw specError(source, "is not an OpenAPI document: it has no `openapi` version field", "Point router.openapi.spec at an OpenAPI 3.0 or 3.1 document (it starts with `openapi: 3.x.y`).");
  }
  const match = /^3\.([01])\.\d+/.exec(version);
  if (!match) {
    throw specError(locate(["openapi"]), `has openapi: ${JSON.stringify(version)}; only 3.0.x and 3.1.x are supported`, "Use an OpenAPI 3.0 or 3.1 version of the API description.");
  }
  const paths = document.paths;
  if (paths !== undefined && (paths === null || typeof paths !== "object" || Array.isArray(paths))) {
    throw specError(locate(["paths"]), "has a `paths` that is not a mapping", "`paths` maps path templates such as `/pets/{id}` to their operations.");
  }
  return { document, dialect: match[1] === "0" ? "3.0" : "3.1", source, url, locate };
}

async function fetchSpec(spec: string, options: SpecLoadOptions): Promise<{ text: string; source: string; url: URL }> {
  const url = new URL(spec);
  const shown = `${url.origin}${url.pathname}`;
  const timeout = options.timeoutMs ?? SPEC_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? MAX_SPEC_BYTES;
  let response: Dispatcher.ResponseData;
  try {
    response = await request(url, {
      method: "GET",
      headers: { accept: "application/json, application/yaml, text/yaml, */*;q=0.5", "user-agent": "mcp-router" },
      headersTimeout: timeout,
      bodyTimeout: timeout,
      signal: AbortSignal.timeout(timeout),
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    });
  } catch (error) {
    throw prepareError(`could not fetch the OpenAPI document ${shown}: ${describeNetworkError(error)}`, "Check that the URL in router.openapi.spec is right and reachable from the daemon, or commit the document to the registry repo and point at the file.", error);
  }
  if (response.statusCode < 200 || response.statusCode > 299) {
    await response.body.dump().catch(() => undefined);
    throw prepareError(`could not fetch the OpenAPI document ${shown}: HTTP ${response.statusCode}`, "Check the URL in router.openapi.spec (it must answer the document itself, not a documentation page).");
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      response.body.destroy();
      throw prepareError(`the OpenAPI document ${shown} is larger than ${maxBytes} bytes`, "Serve a smaller document (a subset of the API), or commit one to the registry repo.");
    }
    chunks.push(chunk);
  }
  return { text: Buffer.concat(chunks).toString("utf8"), source: shown, url };
}

async function readSpecFile(server: RegistryServer, spec: string, maxBytes: number): Promise<{ text: string; source: string; url: undefined }> {
  if (!server.root) {
    throw prepareError(`router.openapi.spec names the document ${spec} by path, but the server was not loaded from a registry`, "Load the server from a registry directory, or give router.openapi.spec as an http(s) URL.");
  }
  let real: string;
  let realRoot: string;
  try {
    realRoot = await realpath(server.root);
    real = await realpath(path.resolve(server.root, spec));
  } catch {
    throw prepareError(`router.openapi.spec refers to ${spec}, which does not exist in the registry repo`, "Paths in router.openapi.spec are relative to the registry root (the folder that holds `servers/`).");
  }
  if (real !== realRoot && !real.startsWith(realRoot + path.sep)) {
    throw prepareError(`router.openapi.spec refers to ${spec}, which is outside the registry repo`, "Copy the OpenAPI document into the registry repo.");
  }
  const bytes = await readFile(real);
  if (bytes.length > maxBytes) throw prepareError(`the OpenAPI document ${spec} is larger than ${maxBytes} bytes`, "Commit a smaller document (a subset of the API).");
  return { text: bytes.toString("utf8"), source: spec, url: undefined };
}

/** A problem with a server's OpenAPI document or its `router.openapi` block; the launcher reports it as PREPARE_FAILED. */
export class OpenApiSpecError extends Error {
  override readonly name = "OpenApiSpecError";
  constructor(message: string, readonly hint: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

function prepareError(message: string, hint: string, cause?: unknown): OpenApiSpecError {
  return new OpenApiSpecError(message, hint, cause === undefined ? undefined : { cause });
}

/** A problem located in the document. */
export function specError(where: string, message: string, hint: string): OpenApiSpecError {
  return new OpenApiSpecError(`the OpenAPI document ${where} ${message}`, hint);
}

export function describeNetworkError(error: unknown): string {
  const e = error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code;
  const message = e.cause?.message ?? e.message ?? String(error);
  return code && !message.includes(code) ? `${message} (${code})` : message;
}

function syntaxDetail(text: string, error: unknown): { at: string; message: string } {
  const e = error as { linePos?: [{ line: number; col: number }, ...unknown[]]; message?: string };
  // yaml's errors carry their position; the message's first line says what is wrong.
  if (e.linePos) return { at: `:${e.linePos[0].line}:${e.linePos[0].col}`, message: (e.message ?? "syntax error").split(" at line ")[0] ?? "syntax error" };
  const position = /position (\d+)/.exec(e.message ?? "");
  if (position) {
    const offset = text.length - text.trimStart().length + Number(position[1]);
    const line = text.slice(0, offset).split("\n").length;
    return { at: `:${line}`, message: (e.message ?? "").replace(/\s*in JSON at position \d+.*$/s, "") };
  }
  return { at: "", message: e.message ?? String(error) };
}

/** Maps JSON pointers to `source:line:column` using a YAML parse with positions (built on first use). */
function locator(text: string, source: string): (pointer: readonly (string | number)[]) => string {
  const lineCounter = new LineCounter();
  let doc: ReturnType<typeof parseDocument> | undefined;
  try {
    doc = parseDocument(text, { lineCounter, keepSourceTokens: false, uniqueKeys: false });
  } catch {
    doc = undefined;
  }
  return (pointer) => {
    if (!doc) return source;
    let node: unknown = doc.contents;
    let last: Node | undefined;
    for (const segment of pointer) {
      if (isMap(node)) {
        const pair = node.items.find((p) => String((p.key as { value?: unknown } | null)?.value ?? p.key) === String(segment));
        if (!pair) break;
        last = (pair.key as Node | null) ?? last;
        node = pair.value;
      } else if (isSeq(node)) {
        const item = node.items[Number(segment)];
        if (item === undefined) break;
        node = item;
        last = item as Node;
      } else break;
    }
    const range = (last ?? (doc?.contents as Node | null))?.range;
    if (!range) return source;
    const { line, col } = lineCounter.linePos(range[0]);
    return `${source}:${line}:${col}`;
  };
}
