// Generates src/registry/types.generated.ts from schemas/server.schema.json.
// The schema is the single source of truth; test/registry/schema.test.ts fails when the two drift.
import { writeFile } from "node:fs/promises";
import { generateRegistryTypes, TYPES_FILE } from "./registry-types.js";

await writeFile(TYPES_FILE, await generateRegistryTypes());
console.log(`wrote ${TYPES_FILE}`);
