/**
 * Conversion between the MCP registry's `server.json` (JSON) and a registry file (YAML with
 * a `router:` block). Export drops `router:`; import adds one. Both ways are lossless for
 * every server.json field.
 */
import { Document } from "yaml";
import { SERVER_JSON_SCHEMA_URL } from "./schema-validator.js";
import type { RegistryFile } from "./types.js";

/** The comment that points editors (yaml-language-server) at the schema, from `servers/`. */
export const SCHEMA_MODELINE = "yaml-language-server: $schema=../../schemas/server.schema.json";

/** A server.json document: the registry file without our `router:` block. */
export function toServerJson(entry: RegistryFile): Record<string, unknown> {
  const { router: _router, $schema, ...rest } = entry;
  // Keep the server.json schema version a document was written against; a registry file's
  // own pointer at our schema is replaced by the official URL.
  const official = $schema?.startsWith("https://static.modelcontextprotocol.io/") ? $schema : SERVER_JSON_SCHEMA_URL;
  return { $schema: official, ...rest };
}

/**
 * A registry file from a server.json document. Keeps the document's own fields and order and
 * appends `router: {prefix}`; the caller validates the result like any other registry file.
 */
export function fromServerJson(doc: Record<string, unknown>, prefix: string): RegistryFile {
  const entry = { ...doc } as Record<string, unknown>;
  const router = (entry.router ?? {}) as Record<string, unknown>;
  entry.router = { ...router, prefix };
  return entry as unknown as RegistryFile;
}

/** Registry-file YAML text for an entry, with the schema modeline on top. */
export function toRegistryYaml(entry: RegistryFile): string {
  const doc = new Document(entry);
  doc.commentBefore = ` ${SCHEMA_MODELINE}`;
  return doc.toString({ lineWidth: 0 });
}

/**
 * A prefix for a server name: its last segment without the usual `mcp-server-`/`server-`/`-mcp`
 * decorations, lower-cased, e.g. `io.github.modelcontextprotocol/server-memory` -> `memory`.
 */
export function suggestPrefix(name: string): string {
  const last = name.slice(name.lastIndexOf("/") + 1).toLowerCase();
  const core = last
    .replace(/^(mcp[-_.]?server[-_.]|server[-_.]|mcp[-_.])/, "")
    .replace(/([-_.]mcp[-_.]server|[-_.]mcp|[-_.]server)$/, "");
  const clean = (core || last)
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .replace(/^[0-9-]+/, "")
    .slice(0, 32)
    .replace(/-+$/, "");
  return clean || "server";
}
