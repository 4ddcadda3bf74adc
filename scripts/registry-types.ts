import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { compile } from "json-schema-to-typescript";

export const SCHEMA_FILE = fileURLToPath(new URL("../schemas/server.schema.json", import.meta.url));
export const TYPES_FILE = fileURLToPath(new URL("../src/registry/types.generated.ts", import.meta.url));

export const ACCESS_SCHEMA_FILE = fileURLToPath(new URL("../schemas/access.schema.json", import.meta.url));
export const ACCESS_TYPES_FILE = fileURLToPath(new URL("../src/registry/access.generated.ts", import.meta.url));

/** Renders the TypeScript types of the access policy file (`access.yaml`) from its JSON Schema. */
export async function generateAccessTypes(): Promise<string> {
  const schema = JSON.parse(await readFile(ACCESS_SCHEMA_FILE, "utf8"));
  return compile(schema, "AccessFile", {
    bannerComment: "/* Generated from schemas/access.schema.json by `npm run gen:types`. Do not edit by hand. */",
    additionalProperties: false,
    unreachableDefinitions: true,
    strictIndexSignatures: true,
    style: { singleQuote: false, printWidth: 100 },
  });
}

/** Renders the TypeScript types of a registry file from the JSON Schema. */
export async function generateRegistryTypes(): Promise<string> {
  const schema = JSON.parse(await readFile(SCHEMA_FILE, "utf8"));
  return compile(schema, "RegistryFile", {
    bannerComment:
      "/* Generated from schemas/server.schema.json by `npm run gen:types`. Do not edit by hand. */",
    additionalProperties: false,
    unreachableDefinitions: true,
    strictIndexSignatures: true,
    style: { singleQuote: false, printWidth: 100 },
  });
}
