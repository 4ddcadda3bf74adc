/**
 * In-document `$ref`s of an OpenAPI document (`#/components/...`), and its schemas turned into
 * self-contained JSON Schemas for tool input: references inlined (a recursive one is cut with a
 * note), OpenAPI 3.0's `nullable` and boolean `exclusiveMinimum`/`exclusiveMaximum` rewritten
 * to JSON Schema. External references are refused with how to bundle them.
 */
import type { JsonObject, OpenApiSpec } from "./openapi-spec.js";
import { specError } from "./openapi-spec.js";

/** Schema nodes a tool's input schema may hold; beyond this, deeper references are not inlined. */
const MAX_SCHEMA_NODES = 5_000;

export type Pointer = readonly (string | number)[];

export function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The segments of a local `$ref` (`#/components/schemas/Pet` -> components, schemas, Pet). */
export function refSegments(spec: OpenApiSpec, ref: string, at: Pointer): string[] {
  if (!ref.startsWith("#")) {
    throw specError(spec.locate(at), `has $ref ${JSON.stringify(ref)}, which points outside the document`, "Only references inside the document (`#/components/...`) are supported: bundle the spec into one file first (e.g. `npx @redocly/cli bundle openapi.yaml -o bundled.yaml`).");
  }
  const fragment = ref.slice(1);
  if (fragment === "") return [];
  if (!fragment.startsWith("/")) throw specError(spec.locate(at), `has $ref ${JSON.stringify(ref)}, which is not a JSON pointer`, "Write local references as JSON pointers, e.g. `#/components/schemas/Pet`.");
  return fragment
    .slice(1)
    .split("/")
    .map((s) => decodeURIComponent(s).replace(/~1/g, "/").replace(/~0/g, "~"));
}

function lookup(spec: OpenApiSpec, ref: string, at: Pointer): unknown {
  let node: unknown = spec.document;
  for (const segment of refSegments(spec, ref, at)) {
    if (Array.isArray(node) && /^\d+$/.test(segment)) node = node[Number(segment)];
    else if (isObject(node) && Object.hasOwn(node, segment)) node = node[segment];
    else node = undefined;
    if (node === undefined) throw specError(spec.locate(at), `has $ref ${JSON.stringify(ref)}, which does not resolve`, "Fix the reference or add the missing component under `components`.");
  }
  return node;
}

/**
 * Follows `$ref` until a node that is not a reference (parameters, request bodies, path items).
 * Returns the node and the pointer where it lives.
 */
export function deref(spec: OpenApiSpec, node: unknown, at: Pointer): { node: unknown; at: Pointer } {
  const seen = new Set<string>();
  let current = node;
  let where = at;
  while (isObject(current) && typeof current.$ref === "string") {
    const ref = current.$ref;
    if (seen.has(ref)) throw specError(spec.locate(where), `has a $ref cycle through ${JSON.stringify(ref)}`, "Break the cycle: a reference must end at a definition.");
    seen.add(ref);
    const next = lookup(spec, ref, where);
    where = refSegments(spec, ref, where);
    current = next;
  }
  return { node: current, at: where };
}

/** A self-contained JSON Schema for the schema at `at` (references inlined, 3.0 keywords rewritten). */
export function inlineSchema(spec: OpenApiSpec, schema: unknown, at: Pointer): JsonObject {
  const budget = { nodes: 0 };
  const out = convert(spec, schema, at, [], budget);
  return isObject(out) ? out : {};
}

function convert(spec: OpenApiSpec, node: unknown, at: Pointer, stack: string[], budget: { nodes: number }): unknown {
  if (Array.isArray(node)) return node.map((item, i) => convert(spec, item, [...at, i], stack, budget));
  if (!isObject(node)) return node;
  budget.nodes += 1;
  if (typeof node.$ref === "string") {
    const ref = node.$ref;
    const { $ref: _ref, ...siblings } = node;
    if (stack.includes(ref)) return { ...siblings, description: joinText(siblings.description, `(recursive: ${ref.replace(/^#\/components\/schemas\//, "")}, not expanded)`) };
    if (budget.nodes > MAX_SCHEMA_NODES) return { ...siblings, description: joinText(siblings.description, `(${ref.replace(/^#\/components\/schemas\//, "")}: see the API's documentation)`) };
    const target = lookup(spec, ref, at);
    const resolved = convert(spec, target, refSegments(spec, ref, at), [...stack, ref], budget);
    const extra = Object.keys(siblings).filter((k) => k !== "description" && k !== "summary");
    if (!isObject(resolved)) return resolved;
    // 3.0 ignores siblings of $ref; 3.1 applies them next to the target.
    if (spec.dialect === "3.0" || extra.length === 0) return typeof siblings.description === "string" ? { ...resolved, description: siblings.description } : resolved;
    return { allOf: [resolved], ...convertKeywords(spec, siblings, at, stack, budget) };
  }
  return convertKeywords(spec, node, at, stack, budget);
}

function convertKeywords(spec: OpenApiSpec, node: JsonObject, at: Pointer, stack: string[], budget: { nodes: number }): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "discriminator" || key === "xml" || key === "externalDocs" || key.startsWith("x-")) continue;
    if (key === "example") {
      if (node.examples === undefined) out.examples = [value];
      continue;
    }
    if (key === "properties" || key === "patternProperties" || key === "$defs" || key === "definitions" || key === "dependentSchemas") {
      out[key] = isObject(value) ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, convert(spec, v, [...at, key, k], stack, budget)])) : value;
      continue;
    }
    if (key === "enum" || key === "const" || key === "default" || key === "examples" || key === "required") {
      out[key] = value;
      continue;
    }
    out[key] = isObject(value) || Array.isArray(value) ? convert(spec, value, [...at, key], stack, budget) : value;
  }
  if (spec.dialect === "3.0") {
    if (out.nullable === true) {
      if (typeof out.type === "string") out.type = [out.type, "null"];
      else if (out.type === undefined && Array.isArray(out.enum)) out.enum = [...out.enum, null];
      if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    }
    delete out.nullable;
    for (const [flag, bound] of [["exclusiveMinimum", "minimum"], ["exclusiveMaximum", "maximum"]] as const) {
      if (out[flag] === true && typeof out[bound] === "number") {
        out[flag] = out[bound];
        delete out[bound];
      } else if (typeof out[flag] === "boolean") delete out[flag];
    }
  }
  return out;
}

export function joinText(...parts: unknown[]): string {
  return parts.filter((p): p is string => typeof p === "string" && p.trim() !== "").map((p) => p.trim()).join("\n\n");
}
