/**
 * The registry schema compiled once with ajv, and its errors turned into readable,
 * hint-carrying messages. The schema (schemas/server.schema.json) is the source of truth:
 * custom messages live there as `errorMessage`, fix-it hints as `x-hint`.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import ajvErrors from "ajv-errors";
import addFormats from "ajv-formats";
import schema from "../../schemas/server.schema.json" with { type: "json" };
import type { RegistryFile } from "./types.js";

export const REGISTRY_SCHEMA = schema;
export const SERVER_JSON_SCHEMA_URL =
  "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json";

export interface SchemaProblem {
  /** Path segments into the document, e.g. `["packages", 0, "version"]`. */
  segments: (string | number)[];
  /** True when the problem is a key (an unknown property) rather than a value. */
  atKey: boolean;
  rule: string;
  message: string;
  hint?: string;
}

let compiled: ValidateFunction<RegistryFile> | undefined;

/** Compiles one of the schemas in `schemas/` the way every document of ours is checked (messages and hints from the schema). */
export function compileSchema<T>(source: object): ValidateFunction<T> {
  const ajv = new Ajv({ allErrors: true, verbose: true, discriminator: true, strict: true, strictRequired: false, strictTypes: false });
  ajv.addKeyword({ keyword: "x-hint", schemaType: "string" });
  (addFormats as unknown as (a: Ajv) => void)(ajv);
  (ajvErrors as unknown as (a: Ajv) => void)(ajv);
  return ajv.compile<T>(source);
}

function validator(): ValidateFunction<RegistryFile> {
  compiled ??= compileSchema<RegistryFile>(schema);
  return compiled;
}

/** Validates a parsed registry file; returns every problem at once (ajv `allErrors`). */
export function validateAgainstSchema(doc: unknown): SchemaProblem[] {
  return schemaProblems(validator(), doc);
}

/** Every problem a compiled schema finds in a document, readable and hinted. */
export function schemaProblems(validate: ValidateFunction, doc: unknown): SchemaProblem[] {
  if (validate(doc)) return [];
  const errors = validate.errors ?? [];
  // An `errorMessage` on anyOf summarises its branches: drop the branch errors it stands for.
  const summarised = new Set(
    errors
      .filter((e) => e.keyword === "errorMessage" && (e.params as { errors?: ErrorObject[] }).errors?.[0]?.keyword === "anyOf")
      .map((e) => e.instancePath),
  );
  const kept = errors.filter((e) => !(summarised.has(e.instancePath) && /\/anyOf\/\d+\//.test(e.schemaPath)));
  const problems = kept.flatMap(explain);
  // A value of the wrong type fails every other rule too; the type error alone says it.
  const mistyped = new Set(problems.filter((p) => p.rule === "schema.type").map((p) => p.segments.join("/")));
  return dedupe(problems.filter((p) => p.rule === "schema.type" || !mistyped.has(p.segments.join("/"))));
}

function explain(e: ErrorObject): SchemaProblem[] {
  const segments = pointerToSegments(e.instancePath);
  const hint = hintOf(e);
  switch (e.keyword) {
    case "errorMessage": {
      const inner = (e.params as { errors?: ErrorObject[] }).errors ?? [];
      // A `required` errorMessage names the missing property: point at the parent, path to the child.
      const missing = inner.find((i) => i.keyword === "required");
      const child = missing && (missing.params as { missingProperty: string }).missingProperty;
      return [{
        segments: child ? [...segments, child] : segments,
        atKey: false,
        rule: `schema.${inner[0]?.keyword ?? "rule"}`,
        message: e.message ?? "is invalid",
        ...(hint ? { hint } : {}),
      }];
    }
    case "required": {
      const prop = (e.params as { missingProperty: string }).missingProperty;
      return [{
        segments: [...segments, prop],
        atKey: false,
        rule: "schema.required",
        message: "is required",
        hint: requiredHint(prop, e),
      }];
    }
    case "additionalProperties": {
      const prop = (e.params as { additionalProperty: string }).additionalProperty;
      const known = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const guess = closest(prop, known);
      return [{
        segments: [...segments, prop],
        atKey: true,
        rule: "schema.additionalProperties",
        message: "is not a known field",
        hint: guess
          ? `Did you mean \`${guess}\`?`
          : segments.length === 0
            ? "Remove it, or put vendor data under `_meta` and mcp-router settings under `router`."
            : `Known fields here: ${known.map((k) => `\`${k}\``).join(", ")}.`,
      }];
    }
    case "enum":
      return [{
        segments,
        atKey: false,
        rule: "schema.enum",
        message: `must be one of ${((e.params as { allowedValues: unknown[] }).allowedValues).map((v) => JSON.stringify(v)).join(", ")}, not ${describe(e.data)}`,
        ...(hint ? { hint } : {}),
      }];
    case "const":
      return [{
        segments,
        atKey: false,
        rule: "schema.const",
        message: `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}, not ${describe(e.data)}`,
      }];
    case "type":
      return [{
        segments,
        atKey: false,
        rule: "schema.type",
        message: `must be ${article((e.params as { type: string }).type)}, not ${describe(e.data)}`,
        ...(hint ? { hint } : {}),
      }];
    case "discriminator": {
      const p = e.params as { error: string; tag: string; tagValue?: unknown };
      return [{
        segments: [...segments, p.tag],
        atKey: false,
        rule: "schema.discriminator",
        message: p.error === "mapping"
          ? `${describe(p.tagValue)} is not a known type`
          : "must be a string naming the type",
        ...(hint ? { hint } : {}),
      }];
    }
    case "minLength":
    case "maxLength": {
      const limit = (e.params as { limit: number }).limit;
      const length = typeof e.data === "string" ? [...e.data].length : 0;
      return [{
        segments,
        atKey: false,
        rule: `schema.${e.keyword}`,
        message: e.keyword === "maxLength"
          ? `must be at most ${limit} characters (it has ${length})`
          : limit === 1 ? "must not be empty" : `must be at least ${limit} characters (it has ${length})`,
        ...(hint ? { hint } : {}),
      }];
    }
    case "oneOf":
    case "anyOf":
      // The branch errors say what is wrong; the summary adds nothing but noise.
      return [];
    case "if":
      return [];
    default:
      return [{
        segments,
        atKey: false,
        rule: `schema.${e.keyword}`,
        message: e.message ?? "is invalid",
        ...(hint ? { hint } : {}),
      }];
  }
}

function hintOf(e: ErrorObject): string | undefined {
  const parent = e.parentSchema as Record<string, unknown> | undefined;
  const hint = parent?.["x-hint"];
  return typeof hint === "string" ? hint : undefined;
}

function requiredHint(prop: string, e: ErrorObject): string {
  const props = (e.parentSchema as { properties?: Record<string, { description?: string }> } | undefined)
    ?.properties;
  const description = props?.[prop]?.description;
  return description ? `Add \`${prop}\`: ${lowerFirst(description)}` : `Add \`${prop}\`.`;
}

function pointerToSegments(pointer: string): (string | number)[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return value.length > 40 ? `"${value.slice(0, 37)}..."` : JSON.stringify(value);
  return `${typeof value} ${String(value)}`;
}

function article(type: string): string {
  const t = type.replace(/,/g, " or ");
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = levenshtein(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function levenshtein(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? 99;
}

function dedupe(problems: SchemaProblem[]): SchemaProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.segments.join("/")}|${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
