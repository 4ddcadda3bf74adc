/**
 * A model of each environment variable a server reads, built from every piece of evidence with a
 * weight: declared in server.json, checked-and-thrown or read with/without a fallback in source,
 * documented as required/optional in README prose, lists and tables (and their headings), shown in
 * a config snippet, listed in `.env.example` or smithery.yaml. Each signal also carries the MODE it
 * belongs to (the default stdio mode, an HTTP/SSE mode, a hosted deployment, development/tests),
 * so only the default mode's needs are proposed and required; variables that stand in for each
 * other (token OR username+password) become "one of" notes for the reviewer instead of required.
 */
import { DAEMON_NAMES } from "../registry/credential-names.js";
import type { EvidenceFile } from "./evidence.js";
import { codeBlocks } from "./run-commands.js";

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
const ONE_WORD = /^[A-Z][A-Z0-9]{2,}$/;
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

const ref = (f: EvidenceFile, line: number, note: string, text: string, mode: EnvMode = "default"): EvidenceRef => ({
  path: f.path,
  url: `${f.url}${f.url.startsWith("http") ? `#L${line}` : ""}`,
  line,
  note,
  quote: text.trim().slice(0, 160),
  mode,
});

const OPTIONAL_WORDS = /\boptional\b|\bunless you set\b|\bopt[- ](out|in)\b|\(optional\)|\bdefaults? (to|is)\b|\bdefault:|\bif not (set|provided)\b|\bnot required\b|\boverride\b|\bto (enable|disable)\b|\bset (it )?to `?(true|false)/i;
const REQUIRED_WORDS = /\*\*required\*\*|\(required\)|\brequired\b|\bmandatory\b|\bmust (be )?(set|provide|have)|\byou(?:'ll| will)? (need|must|have) to\b|\byou (need|must)\b/i;
/** "required when ...", "if you use X you must ...": a conditional need is optional for the default mode. */
const CONDITIONAL_WORDS = /\b(required|needed|must)\b[^.]{0,12}\b(when|if|for|only)\b|\b(if|when|in order to|only if|to use|to enable)\b[^.]{0,80}\b(must|required|need)\b/i;
/**
 * "required for the cloud API": the vendor's hosted service is the default deployment (a self-hosted
 * instance is the alternative), so that condition holds in the default mode and is no condition.
 */
const DEFAULT_DEPLOYMENT = /\b(for|with|on|when using) (the )?(cloud|hosted|managed|saas)( (api|service|version|platform|offering))?\b/gi;
const unconditional = (s: string) => s.replace(DEFAULT_DEPLOYMENT, "");
const requiredText = (s: string) => REQUIRED_WORDS.test(s) && !OPTIONAL_WORDS.test(s) && !CONDITIONAL_WORDS.test(unconditional(s));
const optionalText = (s: string) => OPTIONAL_WORDS.test(s) || CONDITIONAL_WORDS.test(unconditional(s));
const ALTERNATIVE_WORDS = /\b(instead of|alternative(ly)? to|alternatively|either|one of|or use|or set|or\s+`)/i;

/** "These variables can also be set as arguments", "can be passed as command-line flags". */
const ARGUMENT_INTRO = /\bcan (also )?be (set|passed|given|provided|specified) (as|via|with|using|through) (command[- ]line )?(arguments|flags|options|cli arguments)\b/i;

/** A heading of migration notes: the names there are an older version's ("Migrating from the Node.js server"). */
const LEGACY_HEADING = /\b(migrat(e|ing|ion)|upgrad(e|ing) from|legacy|changelog|breaking changes)\b/i;
/** Running the MCP server as a service of one's own (not a self-hosted instance of the product it talks to). */
const SELF_HOSTING_THE_SERVER = /\bself[- ]host(ing|ed)? (the|this|your own) (mcp )?server\b/i;

/** A heading that titles the reference of the server's variables. */
const REFERENCE_HEADING = /^(\W*\s*)?(environment variables|env(ironment)? vars|configuration (options|variables|reference)|(all )?config(uration)? settings)$/i;

/** The mode a README heading (or line) speaks of. */
function modeOf(text: string): EnvMode | undefined {
  if (/\b(develop(ment|ing|er)?|contribut\w*|testing|tests?|debug(ging)?|evals?|build(ing)? from source|local dev\w*|running (the )?tests)\b/i.test(text)) return "dev";
  if (/\b(streamable[- ]http|http (mode|transport|server)|sse (mode|transport)|(for|with|using|over) (the )?(http|sse)\b|remote (mcp )?(mode|deployment|server)|hosted (deployment|service|version)|deploy(ment|ing)?|multi-user|oauth (proxy|server)|kubernetes deployment|docker compose|server[- ]side)\b/i.test(text)) return "http";
  return undefined;
}

/**
 * Whether one README line speaks of the HTTP/SSE mode or a hosted deployment. Narrower than a
 * heading's mode: a line describing what a setting does ("disable server-side JS", "deployment
 * name", "debug logging", "flaky test details") names a feature, not the mode the variable belongs
 * to, so only phrases that name a transport or a remote deployment count; a line never sets `dev`.
 */
function lineIsHttpOnly(line: string): boolean {
  // Code spans are names (`HTTP_PORT`) unless they hold a lower-case value (`'http'`, `sse`).
  const text = line.replace(/`([^`]*)`/g, (_, c: string) => (/^['"]?[a-z-]+['"]?$/.test(c) ? c : ""));
  return /\b(streamable[- ]http|(http|sse) (mode|transport|server)|(for|with|using|over|in) (the )?(http|sse)\b|remote (mcp )?(mode|deployment|server)|hosted (deployment|service|version)|multi-user|oauth (proxy|server))|\btransport is ['"]?(streamable-)?(http|sse)\b/i.test(text);
}

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

/**
 * README: tables (with their header columns), lists, prose and config snippets. Headings set the
 * verdict ("Required variables") and the mode ("HTTP transport", "Development") of what follows.
 */
export function envFromReadme(file: EvidenceFile, into: EnvCollector): void {
  const lines = file.text.split("\n");
  const inBlock = new Map<number, { lang: string; start: number }>();
  for (const b of codeBlocks(file.text)) {
    const n = b.text.split("\n").length;
    for (let j = 0; j < n; j++) inBlock.set(b.line + j, { lang: b.lang, start: b.line });
  }
  const headings: { level: number; text: string }[] = [];
  let header: string[] | undefined;
  const items: { indent: number; http: boolean; documents?: string }[] = [];
  const modes = new Map<number, EnvMode>();
  const examples = exampleSections(lines, inBlock);
  let introHttp = false;
  let flagsIntro = false;
  let lastWasRowOrItem = false;
  let section = 0;
  lines.forEach((line, i) => {
    const lineNo = i + 1;
    const h = /^(#{1,6})\s+(.*)$/.exec(line);
    if (h && !inBlock.has(lineNo)) {
      const level = h[1]!.length;
      while (headings.length && headings[headings.length - 1]!.level >= level) headings.pop();
      headings.push({ level, text: h[2] ?? "" });
      header = undefined;
      items.length = 0;
      section = lineNo;
      flagsIntro = false;
      return;
    }
    const headingText = headings.map((x) => x.text).join(" / ");
    const lastHeading = headings[headings.length - 1]?.text ?? "";
    let mode: EnvMode = "default";
    // The document's title names the product ("Pinecone Developer MCP Server"), not a mode.
    // A heading that titles the reference of variables ("Environment Variables") starts afresh: such a
    // reference is often filed under "Development" next to the build steps, but documents the server's
    // own settings; its sub-headings ("HTTP transport", "Running tests") still set their modes.
    for (const x of headings) if (x.level > 1) mode = LEGACY_HEADING.test(x.text) ? "legacy" : (modeOf(x.text) ?? (REFERENCE_HEADING.test(x.text.trim()) ? "default" : mode));
    // A nested list item belongs to its parent item: "* `X`: token for HTTP/SSE transports" then
    // "  * leave `X` unset in this mode" speaks of the same mode.
    const item = /^(\s*)([-*+]|\d+\.)\s/.exec(line);
    if (item && !inBlock.has(lineNo)) {
      const indent = item[1]!.length;
      while (items.length && items[items.length - 1]!.indent >= indent) items.pop();
      // The variable an item documents: the name it starts with ("* `X`: ...", "- **`X`** - ...").
      const documents = /^\s*(?:[-*+]|\d+\.)\s+(?:\*\*)?`([A-Za-z][A-Za-z0-9_]+)`/.exec(line)?.[1];
      items.push({ indent, http: lineIsHttpOnly(line) || items.some((x) => x.http), ...(documents ? { documents } : {}) });
    } else if (line.trim() && !/^\s/.test(line) && !inBlock.has(lineNo)) items.length = 0;
    // In prose, the sentences that name a variable say its mode ("Metrics are exported unless you set
    // `X=true`. On remote deployments, ..." does not make X remote-only).
    const prose = !item && !line.trim().startsWith("|") && !inBlock.has(lineNo);
    const modeText = prose ? line.split(/(?<=[.!?])\s+(?=[A-Z])/).filter((x) => /[A-Z][A-Z0-9]*_[A-Z0-9_]+/.test(x)).join(" ") || line : line;
    if (examples.has(section) && mode === "default") mode = "dev";
    // "These variables can also be set as arguments": the list that follows names flags' alternatives.
    if (prose && line.trim()) flagsIntro = ARGUMENT_INTRO.test(line) ? true : /:\s*$/.test(line) ? false : flagsIntro;
    // A line that introduces a table or list ("Self-hosting the server itself:") gives it its mode.
    const rowOrItem = !!item || line.trim().startsWith("|");
    if (prose && line.trim()) introHttp = /:\s*$/.test(line) && (lineIsHttpOnly(line) || SELF_HOSTING_THE_SERVER.test(line));
    else if (!line.trim() && lastWasRowOrItem) introHttp = false;
    lastWasRowOrItem = rowOrItem;
    if (lineIsHttpOnly(modeText) || (item && items[items.length - 1]?.http) || (rowOrItem && introHttp)) mode = "http";
    modes.set(lineNo, mode);
    const headingVerdict = /\brequired\b/i.test(lastHeading) && !/optional/i.test(lastHeading) ? "required" : /\boptional\b/i.test(lastHeading) ? "optional" : undefined;
    const envSection = /env|config|setup|auth|credential|api key|token|variable|usage|install|option/i.test(headingText);

    const block = inBlock.get(lineNo);
    const names = new Set<string>();
    for (const m of line.matchAll(/`([A-Za-z][A-Za-z0-9_]{2,})`/g)) names.add(m[1]!);
    for (const m of line.matchAll(/(?:^|[\s"'`(])(?:export\s+|set\s+|\$env:)?([A-Z][A-Z0-9_]{2,})=/g)) names.add(m[1]!);
    for (const m of line.matchAll(/(?:-e|--env)[\s=]+["']?([A-Za-z][A-Za-z0-9_]{2,})/g)) names.add(m[1]!);
    for (const m of line.matchAll(/"([A-Za-z][A-Za-z0-9_]{2,})"\s*:/g)) names.add(m[1]!);
    for (const m of line.matchAll(/"-e",\s*"([A-Z][A-Z0-9_]{2,})/g)) names.add(m[1]!);
    if (block) for (const m of line.matchAll(/^\s*(?:#\s*)?([A-Z][A-Z0-9_]{2,})\s*=/g)) names.add(m[1]!);
    // One-word names (`GROUPS`, `SANDBOX`) only where a variable is being documented or set: a table
    // row, a list item that starts with it, a snippet; the collector keeps them only when a manifest
    // or an env file declares them. Lower-case names (`response_format`, a tool's parameter) are never
    // variables here, and must not make a line look like it names several.
    const settingPlace = !!block || line.trim().startsWith("|") || !!item;
    const candidates = [...names].filter((n) => /_/.test(n) || /(KEY|TOKEN|SECRET)$/.test(n) || (settingPlace && ONE_WORD.test(n))).filter((n) => n === n.toUpperCase());
    if (!candidates.length) {
      if (line.trim().startsWith("|") && /\|/.test(line)) header = header && /^\s*\|?\s*:?-{2,}/.test(line) ? header : line.split("|").map((c) => c.trim().toLowerCase());
      else if (!line.trim()) header = header ?? undefined;
      return;
    }
    const r = ref(file, lineNo, "README", line, mode);
    if (block) {
      // A config snippet or command: the values shown are examples; a comment may say more.
      const comment = /(\/\/|#)\s*(.*)$/.exec(line)?.[2] ?? "";
      const blockMode = mode === "default" ? (modeOf(lines.slice(Math.max(0, block.start - 1), lineNo).join(" ").replace(/`[^`]*`/g, "")) ?? "default") : mode;
      for (const name of candidates) {
        if (/^\s*#\s*[A-Z]/.test(line) && block.lang !== "json") into.add(name, "readme optional", { ...r, mode: blockMode }, { mode: blockMode });
        else if (optionalText(comment)) into.add(name, "readme optional", { ...r, mode: blockMode }, { mode: blockMode, description: comment.slice(0, 200) });
        else if (requiredText(comment)) into.add(name, "readme required", { ...r, mode: blockMode }, { mode: blockMode, description: comment.slice(0, 200) });
        else if (optionalSnippet(lines, block.start, headingText)) into.add(name, "readme optional", { ...r, mode: blockMode }, { mode: blockMode });
        else into.add(name, "readme snippet", { ...r, mode: blockMode }, { mode: blockMode });
      }
      return;
    }
    const isRow = line.trim().startsWith("|");
    const cells = isRow ? line.split("|").map((c) => c.trim()) : [];
    for (const name of candidates) {
      let kind: SignalKind | undefined;
      let rowMode: EnvMode | undefined;
      let description: string | undefined;
      if (isRow && cells.length > 2 && cells.slice(0, 3).some((c) => c.replace(/[`*]/g, "") === name)) {
        const col = (re: RegExp) => (header ? header.findIndex((c) => re.test(c)) : -1);
        const reqCol = col(/required|mandatory/);
        const cell = reqCol >= 0 ? (cells[reqCol] ?? "").toLowerCase() : "";
        if (/^(yes|true|✅|required|\*\*yes\*\*|y)$/.test(cell.replace(/[`*]/g, ""))) kind = "readme required";
        else if (/^(no|false|optional|❌|-|n)$/.test(cell.replace(/[`*]/g, ""))) kind = "readme optional";
        else if (/yes\s*\*|\*\s*$|conditional|one of|either/.test(cell)) kind = "readme optional";
        // A "Required for" column names the mode that needs the variable: the default stdio mode, or another.
        else if (reqCol >= 0 && /\bfor\b/.test(header?.[reqCol] ?? "")) {
          const needs = cell.replace(/[`*]/g, "");
          if (/^(stdio|local|all|always|every \w+|both)$/.test(needs)) kind = "readme required";
          else if (lineIsHttpOnly(`for ${needs}`) || /^(http|sse|streamable[- ]http|remote|hosted|oauth)\b/.test(needs)) {
            kind = "readme listed";
            rowMode = "http";
          }
        }
        const rest = cells.filter((c) => c && !c.includes(name)).join(" ");
        if (!kind) kind = requiredText(rest) ? "readme required" : optionalText(rest) ? "readme optional" : headingVerdict === "required" ? "readme required" : headingVerdict === "optional" ? "readme optional" : "readme listed";
        description = cells.filter((c) => c && !c.includes(name) && !/^(yes|no|required|optional|true|false|-+|`?none`?|`?nil`?)$/i.test(c)).sort((a, b) => b.length - a.length)[0];
      } else if (item && items.slice(0, -1).some((x) => x.documents && x.documents !== name)) {
        // A sub-item of another variable's item ("* `A`: ..." / "  * leave `B` unset when A is set")
        // speaks of A; B is only mentioned there.
        kind = "readme mention";
      } else if (/^\s*([-*+]|\d+\.)\s/.test(line) && candidates.length <= 2 && line.indexOf(name) >= 0) {
        // A list item that documents the variable.
        const rest = line.replace(/`[^`]*`/g, "");
        kind = requiredText(rest) ? "readme required" : optionalText(rest) ? "readme optional" : headingVerdict === "required" ? "readme required" : headingVerdict === "optional" ? "readme optional" : "readme listed";
        description = /`[A-Za-z0-9_]+`\s*[:—–-]\s*(.+)$/.exec(line)?.[1]?.trim();
      } else {
        // Prose: the verdict comes from the sentence that names the variable, and only when that
        // sentence speaks of setting it ("set the `X` environment variable", "`X=true`"): "override the
        // client configuration using the `X` context key" names something in the server's API.
        const sentence = line.split(/(?<=[.!?])\s+(?=[A-Z])/).find((x) => x.includes(name)) ?? line;
        const rest = sentence.replace(/`[^`]*`/g, "");
        const aboutSetting = /\b(env(ironment)?|variables?|set|sets|setting|export|provide|defaults? (to|is))\b|=/i.test(rest) || sentence.includes(`${name}=`);
        if (candidates.length === 1 && aboutSetting && requiredText(rest)) kind = "readme required";
        else if (candidates.length === 1 && aboutSetting && optionalText(rest)) kind = "readme optional";
        else if (envSection || /environment variable|env var|\benv\b|\b(set|export)\b/i.test(line)) kind = "readme mention";
      }
      if (kind) into.add(name, kind, { ...r, mode: rowMode ?? mode }, { mode: rowMode ?? mode, ...(description ? { description: description.replace(/[`*]/g, "").slice(0, 200) } : {}) });
    }
    // `X` / `--flag` (or "`X` or `--flag`") on a list item or table row: the flag stands in for the variable.
    if (rowOrItem) {
      for (const name of candidates) {
        const flag = new RegExp(`\`${name}\`\\s*(?:/|,|\\bor\\b|\\|)\\s*\`(--?[a-z][\\w-]*)`).exec(line)?.[1] ?? (flagsIntro && item ? /`(--[a-z][\w-]*)`/.exec(line)?.[1] ?? "command-line" : undefined);
        if (flag) into.argumentAlternative(name, flag);
      }
    } else if (line.trim() && !prose) flagsIntro = false;
    if (candidates.length >= 2 && (ALTERNATIVE_WORDS.test(line.replace(/`[^`]*`/g, "")) || /\byes\s*\*/i.test(line))) into.alternatives(candidates, r);
  });
  listedAlternatives(file, lines, inBlock, into);
  unmarkedAmongOptional(file, lines, inBlock, modes, into);
  // Table rows marked `Yes*` (required, with a footnote) stand in for each other.
  const starred = lines.map((l, i) => [l, i] as const).filter(([l]) => /^\s*\|/.test(l) && /\|\s*yes\s*\*\s*\|/i.test(l));
  if (starred.length >= 2) {
    const names = starred.map(([l]) => /`([A-Z][A-Z0-9_]+)`/.exec(l)?.[1]).filter((n): n is string => !!n);
    const [first] = starred;
    if (first) into.alternatives(names, ref(file, first[1] + 1, "README", first[0]));
  }
}

/**
 * A snippet that shows a workaround or an option, not the way to run the server: under a
 * "Troubleshooting" heading, or introduced by "If you run into authentication issues, you can
 * temporarily add ...", "Optionally, ...". Its variables are options.
 */
function optionalSnippet(lines: string[], firstLine: number, headingText: string): boolean {
  if (/\btroubleshoot/i.test(headingText)) return true;
  let j = firstLine - 3; // the line before the opening fence (lines are 0-based, firstLine 1-based)
  while (j >= 0 && !lines[j]!.trim()) j--;
  const intro = (lines[j] ?? "").replace(/`[^`]*`/g, "");
  // Only a line that introduces the snippet (ends with ":"), not the last item of a list above it.
  if (/^\s*#/.test(lines[j] ?? "") || !/:\s*$/.test(intro)) return false;
  return /\boptional(ly)?\b|\bif you (run into|encounter|have (trouble|issues|problems))\b|\btemporarily\b|\bworkaround\b/i.test(intro);
}

/** A line that runs an example program of the repository: "run the [application](./examples/agent.py)", `python examples/agent.py`. */
const RUNS_EXAMPLE = /\b(run|start|execute|launch|try)\b[^.\n]{0,60}\]\(\.?\/?examples?\/|\b(run|start|execute|launch)\b[^.\n]{0,40}`?\.?\/?examples?\/[\w./-]+\.(py|ts|js|mjs|go)\b/i;
const RUNS_EXAMPLE_CMD = /^\s*(python3?|node|npx tsx|tsx|go run|uv run|deno run|bun)\s+\.?\/?examples?\//;

/**
 * Sections (by their heading's line; up to the next heading) that run one of the repository's example
 * programs: the keys set there belong to the example (an agent calling an LLM), not to the server.
 */
function exampleSections(lines: string[], inBlock: Map<number, unknown>): Set<number> {
  const found = new Set<number>();
  let section = 0;
  lines.forEach((line, i) => {
    if (/^#{1,6}\s/.test(line) && !inBlock.has(i + 1)) section = i + 1;
    else if (section && (inBlock.has(i + 1) ? RUNS_EXAMPLE_CMD.test(line) : RUNS_EXAMPLE.test(line))) found.add(section);
  });
  return found;
}

/** A line that introduces a list of options of which one is enough ("use one of these options:"). */
const ONE_OF_INTRO = /\b(one of (these|the following)|either of (these|the following)|choose (one|between)|any one of|(the )?following (authentication )?(options|methods|ways))\b[^.]*:\s*$/i;

/**
 * Alternatives written on separate lines: a line ending in "use one of these options:" followed by
 * list items (more indented than the line when it is itself a list item), each naming variables,
 * e.g. "- API key: set `ES_API_KEY`" / "- Basic auth: set `ES_USERNAME` and `ES_PASSWORD`".
 */
export function listedAlternatives(file: EvidenceFile, lines: string[], inBlock: Map<number, unknown>, into: EnvCollector): void {
  const indent = (l: string) => /^\s*/.exec(l)?.[0].length ?? 0;
  const listItem = /^\s*([-*+]|\d+\.)\s/;
  lines.forEach((line, i) => {
    if (inBlock.has(i + 1) || !ONE_OF_INTRO.test(line.replace(/`[^`]*`/g, ""))) return;
    const base = listItem.test(line) ? indent(line) : -1;
    const items: string[][] = [];
    for (let j = i + 1; j < lines.length && j <= i + 12; j++) {
      const l = lines[j] ?? "";
      if (!l.trim()) {
        if (items.length) break;
        continue;
      }
      if (!listItem.test(l) || indent(l) <= base) break;
      const names = [...l.matchAll(/`([A-Z][A-Z0-9_]{2,})`/g)].map((m) => m[1]!).filter(acceptableName);
      if (names.length) items.push(names);
    }
    if (items.length >= 2) into.alternatives(items.flat(), ref(file, i + 1, "README", line));
  });
}

/**
 * A list of variables where some items are marked optional ("(Optional) `X`: ...", "`Y`: ... (default:
 * 3)") and others carry no mark: by contrast, the unmarked ones are the needed ones ("Set the following
 * environment variables: `URL` ... (Optional) `SKIP_VERIFY` ..."). Only when no item of the list says
 * "required" itself (then the author marks needs, not options) and only for items that document one
 * variable by starting with its name.
 */
const LIST_OF_VARIABLES = /\b(set|configure|provide|export|define|need)\b[^.]*\b(following|these)\b[^.]*\b(environment variables|env vars|variables)\b[^.]*:\s*$|\b(following|these) (environment variables|env vars|variables)\b[^.]*:\s*$/i;

export function unmarkedAmongOptional(file: EvidenceFile, lines: string[], inBlock: Map<number, unknown>, modes: Map<number, EnvMode>, into: EnvCollector): void {
  const item = /^(\s*)(?:[-*+]|\d+\.)\s+(.*)$/;
  const documented = /^(?:\((?:optional|required)\)\s*)?(?:\*\*)?`([A-Z][A-Z0-9_]{2,})`(?:\*\*)?\s*(?:[:—–-]|\(|$)/i;
  let block: { indent: number; intro: boolean; entries: { name?: string; verdict: "required" | "optional" | "default" | "none"; line: number; text: string }[] } | undefined;
  const flush = () => {
    if (block?.intro && block.entries.some((e) => e.verdict === "optional") && !block.entries.some((e) => e.verdict === "required")) {
      for (const e of block.entries) if (e.name && e.verdict === "none") into.add(e.name, "readme unmarked", ref(file, e.line, "README (unmarked among optional items)", e.text, modes.get(e.line) ?? "default"));
    }
    block = undefined;
  };
  lines.forEach((line, i) => {
    const m = item.exec(line);
    if (inBlock.has(i + 1) || !m) {
      if (line.trim() && !/^\s/.test(line)) flush();
      else if (!line.trim() && block && !item.test(lines[i + 1] ?? "")) flush();
      return;
    }
    const indent = m[1]!.length;
    if (block && indent > block.indent) return; // a sub-item belongs to its parent's entry
    if (block && indent < block.indent) flush();
    if (!block) {
      // The line before the list introduces it: "Set the following environment variables:".
      let j = i - 1;
      while (j >= 0 && !lines[j]!.trim()) j--;
      block = { indent, intro: LIST_OF_VARIABLES.test(lines[j] ?? ""), entries: [] };
    }
    const text = m[2] ?? "";
    const rest = text.replace(/`[^`]*`/g, "");
    const name = documented.exec(text)?.[1];
    // Only an explicit mark counts as one: "(Optional)", "Optional:", "optional".
    const verdict = requiredText(rest) ? "required" : /\boptional\b/i.test(rest) ? "optional" : optionalText(rest) ? "default" : "none";
    block.entries.push({ ...(name ? { name } : {}), verdict, line: i + 1, text: line });
  });
  flush();
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
