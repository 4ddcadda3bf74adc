/**
 * A located problem in a registry file: where (file, line, column, document path), what rule
 * was broken, and how to fix it. Every check of the registry reports through this one shape.
 */
export interface Diagnostic {
  /** Path as the user should see it, e.g. `registry/servers/memory.yaml`. */
  file: string;
  /** 1-based line and column; 1:1 when the problem concerns the whole file. */
  line: number;
  column: number;
  /** Document path such as `packages[0].version`, or "" for the whole file. */
  path: string;
  /** Stable rule id, e.g. `schema.required`, `yaml.syntax`, `name.duplicate`. */
  rule: string;
  message: string;
  hint?: string;
}

export type DiagnosticInput = Omit<Diagnostic, "line" | "column" | "file"> &
  Partial<Pick<Diagnostic, "line" | "column">>;

/** `registry/servers/x.yaml:12:5  packages[0].version: must be ...` followed by an indented hint. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = `${d.file}:${d.line}:${d.column}`;
  const what = d.path ? `${d.path}: ${d.message}` : d.message;
  return d.hint ? `${where}  ${what}\n    hint: ${d.hint}` : `${where}  ${what}`;
}

/** A GitHub Actions workflow command that annotates the line in the PR diff. */
export function formatGithubAnnotation(d: Diagnostic): string {
  const esc = (s: string) => s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
  const prop = (s: string) => esc(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
  const body = d.path ? `${d.path}: ${d.message}` : d.message;
  const text = d.hint ? `${body}\n${d.hint}` : body;
  return `::error file=${prop(d.file)},line=${d.line},col=${d.column},title=${prop(d.rule)}::${esc(text)}`;
}

/** `["packages", 0, "version"]` -> `packages[0].version`. */
export function formatPath(segments: readonly (string | number)[]): string {
  let out = "";
  for (const s of segments) {
    if (typeof s === "number") out += `[${s}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}
