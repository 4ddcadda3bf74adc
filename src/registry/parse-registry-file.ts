/**
 * Parses one registry file's text: YAML with positions kept, then the JSON Schema, then the
 * per-file rules the schema cannot say. Never throws: every problem becomes a located Diagnostic.
 */
import { CORE_SCHEMA, load as fastLoad } from "js-yaml";
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node } from "yaml";
import { fileRules } from "./file-rules.js";
import { formatPath, type Diagnostic, type DiagnosticInput } from "./diagnostic.js";
import { validateAgainstSchema } from "./schema-validator.js";
import type { RegistryFile } from "./types.js";

export interface ParsedFile {
  /** The validated document; undefined when any error was found. */
  entry?: RegistryFile;
  diagnostics: Diagnostic[];
  /** Finds the line/column of a document path (for checks that run later, across files). */
  locate(segments: readonly (string | number)[]): { line: number; column: number };
}

/** Aliases expand at most this many nodes: a "billion laughs" file is an error, not a hang. */
const MAX_ALIAS_COUNT = 50;
const MAX_SYNTAX_ERRORS = 5;

export interface ParseOptions {
  /** Skip the fast path: always parse with positions (tests compare the two paths). */
  precise?: boolean;
}

/**
 * Most files are valid, and a valid file needs no positions. So a file is first read with the
 * fast js-yaml parser and validated; only a file with a problem (or with YAML features the
 * fast path leaves to the careful one: aliases, several documents) is parsed again with
 * positions to locate its errors. Both paths use the YAML 1.2 core schema.
 */
export function parseRegistryFile(file: string, text: string, relPath = file, options: ParseOptions = {}): ParsedFile {
  if (!options.precise && !MAYBE_ALIAS.test(text)) {
    const fast = tryFastPath(text, relPath);
    if (fast) return { entry: fast, diagnostics: [], locate: (segments) => parsePrecisely(file, text, relPath).locate(segments) };
  }
  return parsePrecisely(file, text, relPath);
}

/** An alias (`*name`) where a node starts; the fast parser does not bound alias expansion. */
const MAYBE_ALIAS = /(^|[\s[{,])\*[^\s.,\]}]/m;

function tryFastPath(text: string, relPath: string): RegistryFile | undefined {
  let data: unknown;
  try {
    data = fastLoad(text, { schema: CORE_SCHEMA });
  } catch {
    return undefined;
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) return undefined;
  if (validateAgainstSchema(data).length || fileRules(data as RegistryFile, relPath).length) return undefined;
  return data as RegistryFile;
}

function parsePrecisely(file: string, text: string, relPath: string): ParsedFile {
  const lineCounter = new LineCounter();
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const make = (d: DiagnosticInput): Diagnostic => ({ file, line: d.line ?? 1, column: d.column ?? 1, ...d });
  const fail = (d: DiagnosticInput): ParsedFile => ({ diagnostics: [make(d)], locate: () => ({ line: 1, column: 1 }) });

  if (text.trim() === "" || /^(\s*#.*\n?)*\s*$/.test(text)) {
    return fail({ path: "", rule: "file.empty", message: "file is empty", hint: "A registry file needs at least `name`, `description` and `version`." });
  }

  let docs: Document.Parsed[];
  try {
    docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true }) as Document.Parsed[];
  } catch (err) {
    return fail({ path: "", rule: "yaml.syntax", message: `cannot parse YAML: ${(err as Error).message}` });
  }
  if (!Array.isArray(docs)) docs = [docs];
  if (docs.length !== 1) {
    const second = docs[1];
    const pos = second?.range ? at(second.range[0]) : { line: 1, column: 1 };
    return fail({
      ...pos,
      path: "",
      rule: "yaml.multi-document",
      message: `file holds ${docs.length} YAML documents; a registry file holds exactly one server`,
      hint: "Split it into one file per server, or remove the `---` separator.",
    });
  }
  const doc = docs[0] as Document.Parsed;
  if (doc.errors.some((e) => /call stack/i.test(e.message))) {
    return fail({ path: "", rule: "yaml.too-deep", message: "nests too deeply to be a registry file", hint: "A registry file nests a few levels deep; check for runaway brackets." });
  }
  // The first few syntax errors say what is wrong; later ones are usually echoes of them.
  const yamlErrors = doc.errors.slice(0, MAX_SYNTAX_ERRORS).map((e) =>
    make({
      ...at(e.pos[0]),
      path: "",
      rule: "yaml.syntax",
      message: e.message.split("\n")[0] ?? e.message,
      hint: yamlHint(e.code),
    }),
  );
  if (yamlErrors.length) return { diagnostics: yamlErrors, locate: () => ({ line: 1, column: 1 }) };

  const locate = (segments: readonly (string | number)[], atKey = false) => {
    const node = nodeAt(doc, segments, atKey);
    return node?.range ? at(node.range[0]) : { line: 1, column: 1 };
  };

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    const message = (err as Error).message;
    return fail(
      /alias/i.test(message)
        ? { path: "", rule: "yaml.alias-bomb", message: "YAML aliases expand too far (possible alias bomb)", hint: "Write the values out instead of using `*alias` references." }
        : { path: "", rule: "yaml.syntax", message: `cannot read YAML: ${message}` },
    );
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    return fail({
      path: "",
      rule: "file.not-a-mapping",
      message: `top level must be a mapping of fields, not ${Array.isArray(data) ? "a list" : typeof data === "string" ? "text" : String(data)}`,
      hint: "Start the file with `name: ...`, `description: ...`, `version: ...`.",
    });
  }

  const diagnostics: Diagnostic[] = [];
  for (const p of validateAgainstSchema(data)) {
    diagnostics.push(
      make({ ...locate(p.segments, p.atKey), path: formatPath(p.segments), rule: p.rule, message: p.message, ...(p.hint ? { hint: p.hint } : {}) }),
    );
  }
  if (diagnostics.length === 0) {
    for (const p of fileRules(data as RegistryFile, relPath)) {
      diagnostics.push(make({ ...locate(p.segments), path: formatPath(p.segments), rule: p.rule, message: p.message, ...(p.hint ? { hint: p.hint } : {}) }));
    }
  }
  diagnostics.sort((a, b) => a.line - b.line || a.column - b.column);
  return diagnostics.length ? { diagnostics, locate } : { entry: data as RegistryFile, diagnostics, locate };
}

/**
 * The YAML node at a document path. For a missing child, the nearest existing ancestor;
 * with `atKey`, the key node of the last segment (for "unknown field" errors).
 */
function nodeAt(doc: Document.Parsed, segments: readonly (string | number)[], atKey: boolean): Node | undefined {
  let node: Node | undefined = doc.contents ?? undefined;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as string | number;
    const last = i === segments.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
      if (!pair) return node;
      if (last && atKey && pair.key && isScalar(pair.key)) return pair.key;
      const value = pair.value as Node | null;
      if (value === null || !value.range) return isScalar(pair.key) ? pair.key : node;
      node = value;
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)] as Node | undefined;
      if (!item) return node;
      node = item;
    } else {
      return node;
    }
  }
  return node;
}

function yamlHint(code: string): string | undefined {
  switch (code) {
    case "DUPLICATE_KEY":
      return "Each field may appear once in a mapping; remove or merge the duplicate.";
    case "BAD_INDENT":
    case "MISSING_CHAR":
    case "UNEXPECTED_TOKEN":
      return "Check the indentation and quoting on this line; values with `: ` or `#` need quotes.";
    case "TAB_AS_INDENT":
      return "YAML indents with spaces, not tabs.";
    default:
      return undefined;
  }
}
