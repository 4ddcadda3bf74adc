/**
 * Parses one registry file's text: YAML with positions kept, then the JSON Schema, then the
 * per-file rules the schema cannot say. Never throws: every problem becomes a located Diagnostic.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import { fileRules } from "./file-rules.js";
import { formatPath, type Diagnostic, type DiagnosticInput } from "./diagnostic.js";
import { validateAgainstSchema } from "./schema-validator.js";
import type { RegistryFile } from "./types.js";

export interface ParsedFile {
  /** The validated document; undefined when any error was found. */
  entry?: RegistryFile;
  /** The document when it has the schema's shape, even if a file rule refused it: what `review` summarises. */
  document?: RegistryFile;
  diagnostics: Diagnostic[];
  /** Finds the line/column of a document path (for checks that run later, across files). */
  locate(segments: readonly (string | number)[]): { line: number; column: number };
}

/** Aliases expand at most this many nodes: a "billion laughs" file is an error, not a hang. */
const MAX_ALIAS_COUNT = 50;
const MAX_SYNTAX_ERRORS = 5;

/**
 * One parser (`yaml`) on every path: positions are kept so every problem is located, aliases are
 * bounded (MAX_ALIAS_COUNT) before anything is expanded, and the YAML 1.2 core schema applies.
 */
export function parseRegistryFile(file: string, text: string, relPath = file): ParsedFile {
  const parsed = parsePrecisely(file, text, relPath);
  if (!parsed.entry) return parsed;
  // A valid file rarely needs positions again (only a cross-file rule does): parse anew then,
  // rather than keep every file's syntax tree alive for as long as its server serves.
  return { entry: parsed.entry, diagnostics: [], locate: (segments) => parsePrecisely(file, text, relPath).locate(segments) };
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

  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  } catch (err) {
    return fail({ path: "", rule: "yaml.syntax", message: `cannot parse YAML: ${(err as Error).message}` });
  }
  const multiple = doc.errors.find((e) => e.code === "MULTIPLE_DOCS");
  if (multiple) {
    const count = text.split(/^---\s*$/m).filter((part) => part.trim() && !/^(\s*#.*\n?)*\s*$/.test(part)).length;
    return fail({
      ...at(multiple.pos[0]),
      path: "",
      rule: "yaml.multi-document",
      message: `file holds ${Math.max(count, 2)} YAML documents; a registry file holds exactly one server`,
      hint: "Split it into one file per server, or remove the `---` separator.",
    });
  }
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
  const schemaShaped = diagnostics.length === 0;
  if (schemaShaped) {
    for (const p of fileRules(data as RegistryFile, relPath)) {
      diagnostics.push(make({ ...locate(p.segments), path: formatPath(p.segments), rule: p.rule, message: p.message, ...(p.hint ? { hint: p.hint } : {}) }));
    }
  }
  diagnostics.sort((a, b) => a.line - b.line || a.column - b.column);
  if (!diagnostics.length) return { entry: data as RegistryFile, diagnostics, locate };
  return { diagnostics, locate, ...(schemaShaped ? { document: data as RegistryFile } : {}) };
}

/**
 * The YAML node at a document path. For a missing child, the nearest existing ancestor;
 * with `atKey`, the key node of the last segment (for "unknown field" errors).
 */
export function nodeAt(doc: Document.Parsed, segments: readonly (string | number)[], atKey: boolean): Node | undefined {
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
