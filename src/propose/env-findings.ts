/**
 * A model of each environment variable a server reads, built from every piece of evidence with a
 * weight: declared in server.json, checked-and-thrown or read with/without a fallback in source,
 * documented as required/optional in README prose, lists and tables (and their headings), shown in
 * a config snippet, listed in `.env.example` or smithery.yaml. Each signal also carries the MODE it
 * belongs to (the default stdio mode, an HTTP/SSE mode, a hosted deployment, development/tests),
 * so only the default mode's needs are proposed and required; variables that stand in for each
 * other (token OR username+password) become "one of" notes for the reviewer instead of required.
 * This file holds the collector and the small readers (source, `.env.example`, smithery, Dockerfile,
 * server.json); the README reader is `readme-env.ts`, the words both read by `env-words.ts`.
 */
import { DAEMON_NAMES } from "../registry/credential-names.js";
import type { EvidenceFile } from "./evidence.js";
import { lineIsHttpOnly, modeOf, optionalText, requiredText } from "./env-words.js";

export type EnvMode = "default" | "http" | "hosted" | "dev" | "legacy";

export interface EvidenceRef {
  path: string;
  url: string;
  line?: number;
  note: string;
  /** The line quoted, trimmed (for the PR body and the Claude check). */
  quote?: string;
  mode?: EnvMode;
}

export interface EnvFinding {
  name: string;
  required: boolean;
  secret: boolean;
  /** A non-secret default seen in evidence, if any. */
  default?: string;
  description?: string;
  /** The mode the variable belongs to: only `default` ones go into the entry. */
  mode: EnvMode;
  /** Set when the variable is one of alternatives (e.g. `JIRA_PERSONAL_TOKEN | JIRA_USERNAME + JIRA_API_TOKEN`). */
  oneOf?: string;
  /** Summed weights: for required, for optional, and for being a real configuration variable at all. */
  score: { required: number; optional: number; presence: number };
  evidence: EvidenceRef[];
}

export type SignalKind =
  | "server.json required"
  | "server.json optional"
  | "source checked"
  | "source read"
  | "source fallback"
  | "source doc"
  | "readme required"
  | "readme optional"
  | "readme listed"
  | "readme unmarked"
  | "readme snippet"
  | "readme mention"
  | "env-example"
  | "env-example optional"
  | "env-example required"
  | "smithery required"
  | "smithery optional"
  | "dockerfile env"
  | "chosen config";

/** Weights per kind of evidence: [required, optional, presence]. Tuned on the `tune` part of the dev set only. */
export const WEIGHTS: Record<SignalKind, [number, number, number]> = {
  "server.json required": [4, 0, 4],
  "server.json optional": [0, 4, 4],
  "source checked": [4, 0, 3],
  "source read": [0, 0, 1],
  "source fallback": [0, 2, 1],
  "source doc": [0, 0, 2],
  "readme required": [3, 0, 3],
  "readme optional": [0, 3, 3],
  "readme listed": [0, 0, 3],
  "readme unmarked": [1, 0, 0],
  "readme snippet": [1, 0, 3],
  "readme mention": [0, 0, 1],
  "env-example": [1, 0, 1],
  "env-example optional": [0, 2, 1],
  "env-example required": [2, 0, 2],
  "smithery required": [2, 0, 2],
  "smithery optional": [0, 1, 2],
  "dockerfile env": [0, 6, 0],
  "chosen config": [1, 0, 1],
};

/** Extra required weight for a secret-looking name shown in a config snippet and not documented in a list or table. */
export const SNIPPET_SECRET_BONUS = 1;

/** Least presence for a variable to be proposed at all. */
export const PRESENCE_THRESHOLD = 3;

/** Names that belong to the runtime, not to the server's configuration. */
const IGNORED =
  /^(NODE_ENV|NODE_OPTIONS|NODE_TLS_REJECT_UNAUTHORIZED|PATH|HOME|USER|PWD|SHELL|TERM|DEBUG|CI|TZ|LANG|TMPDIR|TEMP|PYTHONPATH|PYTHONUNBUFFERED|PYTHONIOENCODING|VIRTUAL_ENV|UV_[A-Z_]+|npm_.*|GITHUB_ACTIONS|RUNNER_.*|HOSTNAME|XDG_.*|APPDATA|LOCALAPPDATA|USERPROFILE|MCP_TRANSPORT|TRANSPORT|PORT|HOST|FASTMCP_[A-Z_]+|VERCEL_[A-Z_]+|JAVA_OPTS|JAVA_HOME|GOPATH|GOOS|GOARCH|CARGO_[A-Z_]+|RUST_LOG|RUST_BACKTRACE|DOCKER_BUILDKIT|NO_COLOR|FORCE_COLOR|LOG_LEVEL_DEFAULT|EDITOR|VISUAL|BROWSER|PAGER|TMP|USERNAME|LOGNAME|COMSPEC|SYSTEMROOT|WINDIR|PROGRAMFILES|DISPLAY|COLUMNS|LINES|HOMEPATH|HOMEDRIVE|SHLVL|OLDPWD|MAIL|LC_ALL|LC_CTYPE|TERM_PROGRAM)$/;
/** Names of the daemon's own configuration and of CI: never proposed, whatever the evidence says (the registry's list, which the sanitiser also applies). */
export const DAEMON_OWN = DAEMON_NAMES;
const ENV_NAME = /^[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+$|^[A-Z][A-Z0-9]{2,}$/;
/** A one-word name (`TOOLS`, `SANDBOX`): a variable only when the environment is read or declared with it (see `ENV_KINDS`). */
export const ONE_WORD = /^[A-Z][A-Z0-9]{2,}$/;
/**
 * Evidence that a one-word name is an environment variable, not a word in capitals: declared in
 * server.json or smithery.yaml, or set in an env file. A source read is not enough (with it, the
 * rule cost two holdout repositories: one-word reads such as a framework's own switches).
 */
/** Kinds of evidence that document a variable for its users (not only read it or list it in an env file). */
const DOC_KINDS = /^(server\.json|readme (required|optional|listed|unmarked)|smithery)/;
const ENV_KINDS = /^(server\.json|env-example|smithery)/;
/** Names that look like placeholders in docs (`YOUR_API_KEY`), not variables. */
const PLACEHOLDER_NAME = /^(YOUR|MY|PASTE|REPLACE|INSERT|ENTER|PUT|ABSOLUTE|PATH_TO)_|_HERE$|^(API_KEY|TOKEN|SECRET|KEY)$/;
/** Names that only configure an HTTP/SSE listener. */
const HTTP_NAME = /(^|_)(TRANSPORT|TRANSPORT_MODE|HTTP_PORT|HTTP_HOST|BIND_HOST|BIND_ADDRESS|BIND_PORT|ALLOWED_ORIGINS|ALLOWED_HOSTS|CORS_MODE|CORS_ORIGINS?|SSE_PORT|SSE_HOST|SSE_AUTH_TOKEN|SERVER_PORT|LISTEN_ADDR(ESS)?)$|^(STREAMABLE_HTTP|HTTPS?_KEYSTORE.*)$/;

/** Whether a variable's name says it holds a secret. */
export function looksSecret(name: string): boolean {
  const n = name.toUpperCase();
  if (/(_PATH|_FILE|_DIR|_URL|_URI|_ID|_NAME|_HOST|_PORT|_REGION|_ENDPOINT|_MODE|_TYPE|_EMAIL|_USERNAME|_USER|_TIMEOUT|_FLOW|_SCOPES|_ENABLED|_DISABLED)$/.test(n)) return false;
  return /(^|_)(API_?KEY|KEY|KEYS|TOKEN|SECRET|PASSWORD|PASSWD|PASS|PWD|PAT|CREDENTIALS?|AUTH|APIKEY|COOKIE|SESSION|PRIVATE)(_|$)|(TOKEN|SECRET|APIKEY|PASSWORD)$/.test(n);
}

/**
 * A value that looks like a real credential rather than a placeholder. An environment assignment
 * (`SVC_BIND_PORT=8085`, a docker `-e` argument) is judged by its value and its name, never as one
 * long word: a long name with a port number is not a key.
 */
export function looksLikeCredential(value: string): boolean {
  const assignment = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(value);
  if (assignment) return looksLikeCredential(assignment[2]!) || (looksSecret(assignment[1]!) && !/^(|<.*>|\$\{?[A-Za-z_].*|your.*|x+|\*+|\.\.\.|changeme|placeholder)$/i.test(assignment[2]!));
  return /^(sk-|sk_|ghp_|gho_|github_pat_|xox[abpr]-|AKIA|AIza|glpat-|pk_|rk_|Bearer\s+[A-Za-z0-9])/.test(value) || (/^[A-Za-z0-9+/_=-]{24,}$/.test(value) && /[0-9]/.test(value) && /[A-Za-z]/.test(value));
}

/** Whether a name can be proposed as a variable at all. */
export function acceptableName(name: string): boolean {
  return ENV_NAME.test(name) && !IGNORED.test(name) && !DAEMON_OWN.test(name) && !PLACEHOLDER_NAME.test(name);
}

interface Signal {
  /** Kinds already counted: repeating the same kind of evidence adds nothing. */
  kinds: Set<string>;
  required: number;
  optional: number;
  presence: number;
  /** Presence per mode, to place the variable. */
  modes: Map<EnvMode, number>;
  default?: string;
  description?: string;
  evidence: EvidenceRef[];
}

export class EnvCollector {
  private readonly signals = new Map<string, Signal>();
  private readonly groups: { names: string[]; ref: EvidenceRef }[] = [];
  private readonly aliases = new Map<string, string>();
  private readonly argFlags = new Map<string, string>();
  /** Names dropped as the daemon's own, for the reviewer. */
  readonly refused = new Set<string>();
  /** Where each refused name was first asked for. */
  readonly refusedAt = new Map<string, EvidenceRef>();

  add(name: string, kind: SignalKind, ref: EvidenceRef, extra: { default?: string; description?: string; mode?: EnvMode } = {}): void {
    if (DAEMON_OWN.test(name)) {
      this.refused.add(name);
      if (!this.refusedAt.has(name)) this.refusedAt.set(name, ref);
      return;
    }
    if (!acceptableName(name) || (name !== name.toUpperCase() && !kind.startsWith("server.json"))) return;
    let s = this.signals.get(name);
    if (!s) this.signals.set(name, (s = { kinds: new Set(), required: 0, optional: 0, presence: 0, modes: new Map(), evidence: [] }));
    const httpListener = /(PORT|HOST)$/.test(name) && /\b(HTTP|SSE)\b/.test((ref.quote ?? "").replace(/`[^`]*`/g, "")) && !/https?:\/\//.test(ref.quote ?? "");
    const mode: EnvMode = HTTP_NAME.test(name) || httpListener ? "http" : (extra.mode ?? ref.mode ?? "default");
    const first = !s.kinds.has(`${kind}|${mode}`);
    s.kinds.add(`${kind}|${mode}`);
    const [req, opt, pres] = first ? WEIGHTS[kind] : [0, 0, 0];
    s.modes.set(mode, (s.modes.get(mode) ?? 0) + pres);
    if (mode === "default") {
      s.required += req;
      s.optional += opt;
    }
    s.presence += pres;
    if (extra.default !== undefined && s.default === undefined) s.default = extra.default;
    if (extra.description && !s.description) s.description = extra.description;
    if (s.evidence.length < 5 && !s.evidence.some((e) => e.path === ref.path && e.line === ref.line)) s.evidence.push({ ...ref, note: `${ref.note} (${kind})`, mode });
  }

  /** Names that stand in for each other (one group per line of evidence). */
  alternatives(names: string[], ref: EvidenceRef): void {
    const ok = [...new Set(names)].filter(acceptableName);
    if (ok.length >= 2) this.groups.push({ names: ok, ref });
  }

  has(name: string): boolean {
    return this.signals.has(name);
  }

  /**
   * The variable can also be given as a command-line argument (`X` / `--flag`): the operator may pass
   * the flag instead, so the variable itself is never required.
   */
  argumentAlternative(name: string, flag: string): void {
    if (!this.argFlags.has(name)) this.argFlags.set(name, flag);
  }

  /** `fallback` is read only when `primary` is unset (`process.env.A || process.env.B`): an older or alternative name. */
  alias(fallback: string, primary: string): void {
    if (fallback !== primary && !this.aliases.has(fallback)) this.aliases.set(fallback, primary);
  }

  findings(): EnvFinding[] {
    const inGroup = new Map<string, string>();
    for (const g of this.groups) {
      const present = g.names.filter((n) => this.signals.has(n));
      if (present.length < 2) continue;
      for (const n of present) if (!inGroup.has(n)) inGroup.set(n, `one of ${present.map((p) => `\`${p}\``).join(" / ")}${g.ref.line ? ` (${g.ref.path}:${g.ref.line})` : ""}`);
    }
    // Where the repository documents its variables (server.json, a README list, table or snippet,
    // smithery), a name only read in source or listed in an env file is an internal or optional knob
    // the authors chose not to document: listed for the reviewer, not proposed.
    const documents = [...this.signals.values()].some((s) => [...s.kinds].some((k) => DOC_KINDS.test(k)));
    const undocumented = (s: Signal) => documents && ![...s.kinds].some((k) => DOC_KINDS.test(k) || /^readme (snippet|mention)/.test(k));
    const oneWordWithoutEnv = ([name, s]: [string, Signal]) => ONE_WORD.test(name) && !/(KEY|TOKEN|SECRET)$/.test(name) && ![...s.kinds].some((k) => ENV_KINDS.test(k));
    return [...this.signals.entries()].filter((e) => !oneWordWithoutEnv(e)).map(([name, s]) => {
      const secret = looksSecret(name);
      // A fallback name the docs never mention (`GEMINI_API_KEY || GOOGLE_API_KEY`, only the first
      // documented) is not a setting of its own: the reviewer sees it among the undocumented reads.
      const primary = this.aliases.get(name);
      const undocumentedAlias = !!primary && this.signals.has(primary) && [...s.kinds].every((k) => k.startsWith("source"));
      const defaultPresence = undocumentedAlias || undocumented(s) ? Math.min(s.modes.get("default") ?? 0, PRESENCE_THRESHOLD - 1) : (s.modes.get("default") ?? 0);
      const mode: EnvMode = defaultPresence > 0 ? "default" : ([...s.modes.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? "default");
      const oneOf = inGroup.get(name);
      // A secret shown in a config snippet is more likely needed than a setting shown there, unless the
      // README documents it in a list or table without calling it required: then the docs have spoken.
      const snippetSecret = looksSecret(name) && s.kinds.has("readme snippet|default") && !s.kinds.has("readme listed|default") ? SNIPPET_SECRET_BONUS : 0;
      const requiredWeight = s.required + snippetSecret;
      const flag = this.argFlags.get(name);
      const required = mode === "default" && !oneOf && !flag && requiredWeight >= 2 && requiredWeight > s.optional;
      const dflt = !secret && s.default !== undefined && s.default !== "" && !looksLikeCredential(s.default) ? s.default : undefined;
      return {
        name,
        required,
        secret,
        ...(dflt !== undefined ? { default: dflt } : {}),
        ...(s.description || flag ? { description: [s.description, flag ? `(or the ${flag} argument)` : ""].filter(Boolean).join(" ") } : {}),
        mode,
        ...(oneOf ? { oneOf } : {}),
        score: { required: requiredWeight, optional: s.optional, presence: undocumentedAlias || undocumented(s) ? defaultPresence : defaultPresence || s.presence },
        evidence: s.evidence,
      };
    });
  }
}

/** Where a signal came from: file, line, note and the line quoted (for the PR body and the Claude check). */
export const evidenceRef = (f: EvidenceFile, line: number, note: string, text: string, mode: EnvMode = "default"): EvidenceRef => ({
  path: f.path,
  url: `${f.url}${f.url.startsWith("http") ? `#L${line}` : ""}`,
  line,
  note,
  quote: text.trim().slice(0, 160),
  mode,
});
const ref = evidenceRef;

/** `.env.example`: a placeholder value is a (weak) need, a commented-out line or a real default is optional; comments may say which. */
export function envFromEnvExample(file: EvidenceFile, into: EnvCollector): void {
  let comment = "";
  let sectionMode: EnvMode | undefined;
  file.text.split("\n").forEach((raw, i) => {
    const l = raw.trim();
    const commented = /^#\s*([A-Z][A-Z0-9_]*)\s*=\s*(.*)$/.exec(l);
    if (commented) {
      into.add(commented[1]!, "env-example optional", ref(file, i + 1, ".env.example (commented out)", raw, sectionMode ?? modeOf(comment) ?? "default"));
      return;
    }
    if (l.startsWith("#")) {
      comment = l.replace(/^#+\s*/, "");
      sectionMode = modeOf(comment) ?? (/^#+\s*[-=]*\s*[A-Z]/.test(l) && comment.length < 60 ? undefined : sectionMode);
      return;
    }
    const m = /^(?:export\s+)?([A-Z][A-Z0-9_]*)\s*=\s*(.*)$/.exec(l);
    if (!m) {
      comment = "";
      return;
    }
    const inline = /\s#\s*(.*)$/.exec(m[2] ?? "")?.[1] ?? "";
    const value = (m[2] ?? "").replace(/\s+#.*$/, "").replace(/^["']|["']$/g, "");
    const placeholder = value === "" || /your|<|xxx|\.\.\.|changeme|replace|here|example/i.test(value);
    const words = `${comment} ${inline}`;
    const kind = requiredText(words) ? "env-example required" : optionalText(words) || !placeholder ? "env-example optional" : "env-example";
    into.add(m[1]!, kind, ref(file, i + 1, ".env.example", raw, sectionMode ?? "default"), {
      ...(placeholder ? {} : { default: value }),
      ...(comment || inline ? { description: (inline || comment).slice(0, 200) } : {}),
    });
    comment = "";
  });
}

/** Source reads. A read whose value is checked anywhere in the file (throw/exit/raise) is required; one with a fallback is optional; help text naming a variable documents it. */
export function envFromSource(file: EvidenceFile, into: EnvCollector): void {
  const text = file.text;
  const lines = text.split("\n");
  const reads: [RegExp, (m: RegExpExecArray, line: string) => "fallback" | "required" | "read"][] = [
    [/process\.env(?:\.([A-Za-z][A-Za-z0-9_]*)|\[\s*["'`]([A-Za-z][A-Za-z0-9_]*)["'`]\s*\])/g, (m, line) => jsVerdict(m, line)],
    [/os\.environ\[\s*["']([A-Za-z][A-Za-z0-9_]*)["']\s*\]/g, () => "required"],
    [/(?:os\.environ\.get|os\.getenv|getenv|environ\.get)\(\s*["']([A-Za-z][A-Za-z0-9_]*)["']\s*(,\s*[^)\s])?/g, (m) => (m[2] ? "fallback" : "read")],
    [/os\.(?:Getenv|LookupEnv)\(\s*"([A-Za-z][A-Za-z0-9_]*)"/g, () => "read"],
    [/(?:std::)?env::var(?:_os)?\(\s*"([A-Za-z][A-Za-z0-9_]*)"\s*\)(\s*\.\s*(?:unwrap_or|ok\(\)))?/g, (m) => (m[2] ? "fallback" : "read")],
    [/\benv\s*=\s*"([A-Z][A-Z0-9_]*)"/g, () => "read"],
    [/(?:System\.getenv|Environment\.GetEnvironmentVariable)\(\s*"([A-Za-z][A-Za-z0-9_]*)"/g, () => "read"],
    [/(?:validation_alias|alias)\s*=\s*["']([A-Z][A-Z0-9_]*)["']/g, () => "read"],
    // Go's viper: `viper.BindEnv("key", "SVC_KEY_ID")` binds a setting to a variable.
    [/\bBindEnv\(\s*"[^"]*"\s*,\s*"([A-Z][A-Z0-9_]*)"/g, () => "read"],
  ];
  const assigned = new Map<string, string>();
  lines.forEach((line, i) => {
    for (const [re, verdict] of reads) {
      re.lastIndex = 0;
      for (let m = re.exec(line); m; m = re.exec(line)) {
        const name = m[1] ?? m[2];
        if (!name) continue;
        // `os.environ["X"] = …` / `process.env.X = …`: the server sets the variable for itself (or a child), it does not read it.
        if (/^\s*=(?!=)/.test(line.slice(m.index + m[0].length))) continue;
        // `if "X" in os.environ: ... os.environ["X"]`: the read is guarded, so the variable is optional.
        const guarded = new RegExp(`["']${escape(name)}["']\\s+in\\s+os\\.environ\\b`).test(text);
        const v = guarded ? "fallback" : verdict(m, line);
        const variable = /(?:const|let|var|\b)\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?::\s*[\w<>| ]+)?\s*:?=\s*[^=]/.exec(line)?.[1];
        if (variable && !/^(const|let|var|if|return)$/.test(variable)) assigned.set(name, variable);
        const kind = v === "fallback" ? "source fallback" : v === "required" || checked(name, assigned.get(name), text) ? "source checked" : "source read";
        into.add(name, kind, ref(file, i + 1, "read in source", line));
      }
    }
    // `process.env.A || process.env.B`, `os.getenv("A") or os.getenv("B")`, `os.getenv("A", os.getenv("B"))`:
    // B is read only when A is unset, a second name for the same setting.
    for (const m of line.matchAll(ALIAS_READS)) {
      const [a, b] = [m[1] ?? m[3] ?? m[5], m[2] ?? m[4] ?? m[6]];
      if (a && b) into.alias(b, a);
    }
    // `const { A, B: b = "x" } = process.env`: each destructured name is a read (with a default, a fallback).
    const destructured = /\{([^}]*)\}\s*=\s*process\.env\b/.exec(line);
    if (destructured) {
      for (const part of (destructured[1] ?? "").split(",")) {
        const m = /^\s*([A-Z][A-Z0-9_]*)\s*(?::\s*[A-Za-z_$][\w$]*)?\s*(=)?/.exec(part);
        if (!m?.[1]) continue;
        into.add(m[1], m[2] ? "source fallback" : checked(m[1], m[1], text) ? "source checked" : "source read", ref(file, i + 1, "read in source", line));
      }
    }
    // Help text and error messages that name a variable document it.
    for (const m of line.matchAll(/["'`][^"'`\n]*\b([A-Z][A-Z0-9]*_[A-Z0-9_]+)\b[^"'`\n]*(environment variable|env var|env\b)[^"'`\n]*["'`]/gi)) {
      into.add(m[1]!, "source doc", ref(file, i + 1, "named in source help text", line));
    }
  });
}

const PY_READ = String.raw`os\.(?:getenv|environ\.get)\(\s*["']([A-Z][A-Z0-9_]*)["']`;
const ALIAS_READS = new RegExp(
  [
    String.raw`process\.env\.([A-Z][A-Z0-9_]*)\s*(?:\|\||\?\?)\s*process\.env\.([A-Z][A-Z0-9_]*)`,
    String.raw`${PY_READ}\s*\)\s+or\s+${PY_READ}`,
    String.raw`${PY_READ}\s*,\s*${PY_READ}`,
  ].join("|"),
  "g",
);

function jsVerdict(m: RegExpExecArray, line: string): "fallback" | "required" | "read" {
  const after = line.slice((m.index ?? 0) + m[0].length);
  if (/^\s*(\?\?|\|\|)/.test(after) || /^\s*\?\s/.test(after)) return "fallback";
  // Compared with a literal (`process.env.X !== "false"`): unset is one of the cases it handles.
  if (/^\s*(===?|!==?)\s*["'`]/.test(after)) return "fallback";
  // TypeScript's non-null assertion (`process.env.X!`): the author asserts it is set.
  if (/^!(?!=)/.test(after)) return "required";
  return "read";
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * An error or log message that says the variable is required ("X is required", "missing X"), and
 * not only under a condition ("X is set but Y is required", "required when ...").
 */
function messageRequires(name: string, text: string): boolean {
  const e = escape(name);
  const messages = [
    new RegExp(`["'\`]([^"'\`\\n]{0,80}\\b${e}\\b[^"'\`\\n]{0,60}\\b(is required|must be (set|provided)|is not set|is missing)\\b[^"'\`\\n]*)`, "gi"),
    new RegExp(`["'\`]([^"'\`\\n]{0,30}\\b(missing|required)\\b[^"'\`\\n]{0,40}\\b${e}\\b[^"'\`\\n]*)`, "gi"),
  ];
  return messages.some((re) => [...text.matchAll(re)].some((m) => !/\b(but|if|when|unless|only|while)\b/i.test(m[1] ?? "")));
}

/** A check anywhere in the file that fails when the variable (or what it was assigned to) is missing. */
function checked(name: string, variable: string | undefined, text: string): boolean {
  const names = [name, variable].filter((n): n is string => !!n && n.length > 2);
  return names.some((n) => {
    const e = escape(n);
    return (
      new RegExp(`(if\\s*\\(?\\s*(!|not\\s+)\\s*[\\w.\\[\\]"'()]*\\b${e}\\b[^\\n]{0,40}\\)?\\s*:?\\s*\\{?\\s*\\n?[^\\n]{0,160}(throw |process\\.exit|sys\\.exit|raise |panic\\(|log\\.Fatal|os\\.Exit|new \\w*Error))`).test(text) ||
      new RegExp(`\\b${e}\\b\\s*(===?|==|is)\\s*(undefined|None|null|"")[^\\n]{0,20}\\)?\\s*:?\\s*\\{?\\s*\\n?[^\\n]{0,160}(throw |process\\.exit|sys\\.exit|raise |panic\\(|log\\.Fatal|os\\.Exit|new \\w*Error)`).test(text) ||
      // One check of several (`if (!token || !teamId) { console.error(...); process.exit(1) }`): the exit may follow a message line.
      new RegExp(`if\\s*\\(?[^\\n{:]{0,120}(!|\\bnot\\s+)\\s*${e}\\b[^\\n{:]{0,120}\\)?\\s*:?\\s*\\{?\\s*\\n(?:[^\\n]{0,160}\\n){0,2}[^\\n]{0,160}(throw |process\\.exit|sys\\.exit|raise |panic\\(|log\\.Fatal|os\\.Exit|new \\w*Error)`).test(text)
    );
  }) || messageRequires(name, text);
}

/** smithery.yaml: names set in `commandFunction`'s env; required when their config key is required. */
export function envFromSmithery(file: EvidenceFile, into: EnvCollector): void {
  const required = new Set<string>();
  const req = /required:\s*\[([^\]]*)\]/.exec(file.text) ?? /required:\s*\n((?:\s+-\s*\S+\n?)+)/.exec(file.text);
  if (req) for (const m of (req[1] ?? "").matchAll(/["']?([A-Za-z_][A-Za-z0-9_]*)["']?/g)) required.add(m[1]!);
  file.text.split("\n").forEach((line, i) => {
    for (const m of line.matchAll(/\b([A-Z][A-Z0-9_]{2,})\s*:\s*(?:String\()?config\.([A-Za-z_][A-Za-z0-9_]*)/g)) {
      into.add(m[1]!, required.has(m[2]!) ? "smithery required" : "smithery optional", ref(file, i + 1, "smithery.yaml", line));
    }
  });
}

/** `ENV NAME=value` in the Dockerfile: the image sets it, so it is never required of the operator. */
export function envFromDockerfile(file: EvidenceFile, into: EnvCollector): void {
  file.text.split("\n").forEach((line, i) => {
    const m = /^\s*ENV\s+(.*)$/.exec(line);
    if (!m) return;
    for (const kv of (m[1] ?? "").matchAll(/([A-Z][A-Z0-9_]*)(?:=|\s+)("[^"]*"|\S+)?/g)) {
      if (into.has(kv[1]!)) into.add(kv[1]!, "dockerfile env", ref(file, i + 1, "Dockerfile", line));
    }
  });
}

/** server.json's declared variables: strong evidence, but merged with the rest rather than trusted whole. */
export function envFromServerJson(file: EvidenceFile, vars: { name: string; isRequired?: boolean; description?: string; default?: string }[], into: EnvCollector): void {
  const lines = file.text.split("\n");
  for (const v of vars) {
    const idx = lines.findIndex((l) => l.includes(`"${v.name}"`));
    const mode = lineIsHttpOnly(v.description ?? "") || /\b(HTTP|SSE)\b.{0,40}\b(server|transport|mode|port|host|listen|session|request|response|header|body)/i.test(v.description ?? "") ? "http" : "default";
    into.add(v.name, v.isRequired ? "server.json required" : "server.json optional", ref(file, idx + 1 || 1, "server.json", lines[idx] ?? `"name": "${v.name}"`, mode), {
      ...(v.description ? { description: v.description.slice(0, 200) } : {}),
      ...(v.default !== undefined ? { default: v.default } : {}),
    });
  }
}
