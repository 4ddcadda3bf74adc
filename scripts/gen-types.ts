// Generates src/registry/types.generated.ts from schemas/server.schema.json, and
// src/registry/access.generated.ts from schemas/access.schema.json.
// The schema is the single source of truth; test/registry/schema.test.ts fails when the two drift.
import { writeFile } from "node:fs/promises";
import { ACCESS_TYPES_FILE, generateAccessTypes, generateRegistryTypes, TYPES_FILE } from "./registry-types.js";

await writeFile(TYPES_FILE, await generateRegistryTypes());
console.log(`wrote ${TYPES_FILE}`);
await writeFile(ACCESS_TYPES_FILE, await generateAccessTypes());
console.log(`wrote ${ACCESS_TYPES_FILE}`);
