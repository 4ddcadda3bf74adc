/**
 * The access policy file, `access.yaml` at the registry's root: who may use which servers, tools,
 * prompts and resources, and at what rate. It is reviewed like the server files (a pull request),
 * parsed with the same guards (size, binary, aliases, one document, no symlinks) and validated by
 * `schemas/access.schema.json`, every problem located with a hint. Its meaning (matching a caller
 * and a name) lives in `auth/access-policy.ts`.
 */
import { lstat, readFile } from "node:fs/promises";
import path from "node:path";
import { LineCounter, parseDocument } from "yaml";
import type { AccessFile } from "./access.generated.js";
import schema from "../../schemas/access.schema.json" with { type: "json" };
import type { Diagnostic } from "./diagnostic.js";
import { formatPath } from "./diagnostic.js";
import { nodeAt } from "./parse-registry-file.js";
import { compileSchema, schemaProblems } from "./schema-validator.js";

export type { AccessFile, Grant as AccessGrant, Limit as AccessLimit } from "./access.generated.js";

/** The file's names, at the registry's root (beside `servers/`). */
export const ACCESS_FILE_NAMES = ["access.yaml", "access.yml"] as const;
const MAX_BYTES = 1024 * 1024;
const MAX_ALIAS_COUNT = 50;

export interface AccessLoad {
  /** Path relative to the registry root. */
  file: string;
  /** Present when the file is valid. */
  policy?: AccessFile;
  diagnostics: Diagnostic[];
}

let compiled: ReturnType<typeof compileSchema<AccessFile>> | undefined;

/** Parses and validates the text of an access file; never throws. */
export function parseAccessFile(shown: string, rel: string, text: string): AccessLoad {
  const fail = (rule: string, message: string, hint: string, line = 1, column = 1): AccessLoad => ({ file: rel, diagnostics: [{ file: shown, line, column, path: "", rule, message, hint }] });
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const syntax = doc.errors[0];
  if (syntax) {
    const { line, column } = at(syntax.pos[0]);
    return fail("yaml.syntax", syntax.message.split("\n")[0] ?? syntax.message, "Check the indentation and quoting on this line; values with `: ` or `#` need quotes.", line, column);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch {
    return fail("yaml.alias-bomb", "YAML aliases expand too far (possible alias bomb)", "Write the values out instead of using `*alias` references.");
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    return fail("file.not-a-mapping", "top level must be a mapping with `grants` (and `limits`)", "Start the file with `grants:` and a list of grants.");
  }
  compiled ??= compileSchema<AccessFile>(schema);
  const diagnostics = schemaProblems(compiled, data).map((p): Diagnostic => {
    const node = nodeAt(doc, p.segments, p.atKey);
    const position = node?.range ? at(node.range[0]) : { line: 1, column: 1 };
    // The server files' hint for an unknown top-level field talks of `router`; this file has only two.
    const hint = p.rule === "schema.additionalProperties" && p.segments.length === 1 ? "The file has `grants` and `limits` only." : p.hint;
    return { file: shown, ...position, path: formatPath(p.segments), rule: p.rule, message: p.message, ...(hint ? { hint } : {}) };
  });
  diagnostics.sort((a, b) => a.line - b.line || a.column - b.column);
  return diagnostics.length ? { file: rel, diagnostics } : { file: rel, policy: data as AccessFile, diagnostics };
}

/** Reads `access.yaml` (or `.yml`) at a registry's root; undefined when there is none (everyone may use everything). */
export async function loadAccessFile(root: string, display: (rel: string) => string): Promise<AccessLoad | undefined> {
  for (const rel of ACCESS_FILE_NAMES) {
    const abs = path.join(root, rel);
    const shown = display(rel);
    const refuse = (rule: string, message: string, hint: string): AccessLoad => ({ file: rel, diagnostics: [{ file: shown, line: 1, column: 1, path: "", rule, message, hint }] });
    let info;
    try {
      info = await lstat(abs);
    } catch {
      continue;
    }
    if (info.isSymbolicLink()) return refuse("file.symlink", "is a symbolic link", "The access policy is reviewed in the registry: keep it a regular file there.");
    if (!info.isFile()) return refuse("file.not-a-file", "is not a regular file", "`access.yaml` is a YAML file.");
    if (info.size > MAX_BYTES) return refuse("file.too-large", "is larger than 1 MiB", "An access policy is a few kilobytes; group principals with `group:` claims.");
    const bytes = await readFile(abs);
    if (bytes.includes(0)) return refuse("file.binary", "is a binary file, not YAML text", "The access policy is UTF-8 YAML text.");
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      return refuse("file.encoding", "is not valid UTF-8 text", "Save the file as UTF-8.");
    }
    return parseAccessFile(shown, rel, text);
  }
  return undefined;
}
