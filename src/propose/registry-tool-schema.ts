/**
 * The registry schema as a Claude tool `input_schema`: the same structure and descriptions, minus
 * the ajv-only keywords (`errorMessage`, `x-hint`, `discriminator`), the draft-07 envelope
 * (`$schema`, `$id`; `definitions` become `$defs`), and `router.tools`, which only verification
 * fills in. Derived from schemas/server.schema.json at run time, so it cannot drift.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const DROP = new Set(["errorMessage", "x-hint", "discriminator", "$schema", "$id", "examples"]);

export function registrySchemaPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const up of ["../..", "../../.."]) {
    const p = path.resolve(here, up, "schemas/server.schema.json");
    try {
      readFileSync(p);
      return p;
    } catch {
      // next candidate
    }
  }
  return path.resolve(here, "../../schemas/server.schema.json");
}

/** A clean copy of `schema` fit for a tool's input_schema. */
export function registryToolSchema(schema: Record<string, unknown> = JSON.parse(readFileSync(registrySchemaPath(), "utf8")) as Record<string, unknown>): Record<string, unknown> {
  const clean = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(clean);
    if (!node || typeof node !== "object") return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
      if (DROP.has(k)) continue;
      if (k === "$ref" && typeof v === "string") out[k] = v.replace("#/definitions/", "#/$defs/");
      else if (k === "definitions") out.$defs = clean(v);
      else out[k] = clean(v);
    }
    return out;
  };
  const result = clean(schema) as Record<string, unknown>;
  const router = (result.$defs as Record<string, { properties?: Record<string, unknown> }> | undefined)?.Router;
  if (router?.properties) delete router.properties.tools;
  const version = (result.$defs as Record<string, Record<string, unknown>> | undefined)?.ExactVersion;
  if (version) version.description = "An exact version such as 1.2.3; never `latest`, never a range.";
  result.type = "object";
  return result;
}
