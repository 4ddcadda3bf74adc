/**
 * Environment variables a server reads, from its README, `.env.example`, smithery.yaml and source
 * (`process.env.X`, `os.environ[...]`, `os.getenv(...)`), with a required/secret verdict.
 */
import type { EvidenceFile } from "./evidence.js";

export interface EvidenceRef {
  path: string;
  url: string;
  line?: number;
  note: string;
}

export interface EnvFinding {
  name: string;
  required: boolean;
  secret: boolean;
  /** A non-secret default seen in .env.example or source, if any. */
  default?: string;
  description?: string;
  evidence: EvidenceRef[];
}

interface Signal {
  required: number;
  optional: number;
  default?: string;
  description?: string;
  evidence: EvidenceRef[];
}

/** Names that belong to the runtime, not to the server's configuration. */
const IGNORED = /^(NODE_ENV|NODE_OPTIONS|PATH|HOME|USER|PWD|SHELL|TERM|DEBUG|CI|TZ|LANG|TMPDIR|PYTHONPATH|PYTHONUNBUFFERED|VIRTUAL_ENV|npm_.*|GITHUB_ACTIONS|RUNNER_.*|HOSTNAME|XDG_.*|APPDATA|LOCALAPPDATA|USERPROFILE|MCP_TRANSPORT|TRANSPORT|PORT|HOST)$/;
const ENV_NAME = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$|^[A-Z][A-Z0-9]{2,}(?:KEY|TOKEN|SECRET)$/;

/** Whether a variable's name says it holds a secret. */
export function looksSecret(name: string): boolean {
  if (/(_PATH|_FILE|_DIR|_URL|_URI|_ID|_NAME|_HOST|_PORT|_REGION|_ENDPOINT|_MODE|_TYPE|_EMAIL|_USERNAME|_USER)$/.test(name)) return false;
  return /(^|_)(API_?KEY|KEY|KEYS|TOKEN|SECRET|PASSWORD|PASSWD|PASS|PAT|CREDENTIALS?|AUTH|APIKEY|COOKIE|SESSION|PRIVATE)(_|$)|(TOKEN|SECRET|APIKEY|PASSWORD)$/.test(name);
}

/** A value that looks like a real credential rather than a placeholder. */
export function looksLikeCredential(value: string): boolean {
  return /^(sk-|sk_|ghp_|gho_|github_pat_|xox[abpr]-|AKIA|AIza|glpat-|pk_|rk_|Bearer\s+[A-Za-z0-9])/.test(value) || (/^[A-Za-z0-9+/_=-]{24,}$/.test(value) && /[0-9]/.test(value) && /[A-Za-z]/.test(value));
}

export class EnvCollector {
  private readonly signals = new Map<string, Signal>();

  private at(name: string): Signal | undefined {
    if (!ENV_NAME.test(name) || IGNORED.test(name)) return undefined;
    let s = this.signals.get(name);
    if (!s) this.signals.set(name, (s = { required: 0, optional: 0, evidence: [] }));
    return s;
  }

  add(name: string, verdict: "required" | "optional" | "mentioned", ref: EvidenceRef, extra: { default?: string; description?: string } = {}): void {
    const s = this.at(name);
    if (!s) return;
    if (verdict === "required") s.required++;
    if (verdict === "optional") s.optional++;
    if (extra.default !== undefined && s.default === undefined) s.default = extra.default;
    if (extra.description && !s.description) s.description = extra.description;
    if (s.evidence.length < 4 && !s.evidence.some((e) => e.path === ref.path && e.line === ref.line)) s.evidence.push(ref);
  }

  has(name: string): boolean {
    return this.signals.has(name);
  }

  findings(): EnvFinding[] {
    return [...this.signals.entries()].map(([name, s]) => {
      const secret = looksSecret(name);
      const required = s.required > 0 && s.optional === 0;
      const dflt = !secret && s.default !== undefined && s.default !== "" && !looksLikeCredential(s.default) ? s.default : undefined;
      return {
        name,
        required,
        secret,
        ...(dflt !== undefined ? { default: dflt } : {}),
        ...(s.description ? { description: s.description } : {}),
        evidence: s.evidence,
      };
    });
  }
}

const ref = (f: EvidenceFile, line: number, note: string): EvidenceRef => ({ path: f.path, url: `${f.url}${f.url.startsWith("http") ? `#L${line}` : ""}`, line, note });

/** `.env.example`: `NAME=value` is required unless commented out, given a real default, or marked optional. */
export function envFromEnvExample(file: EvidenceFile, into: EnvCollector): void {
  let comment = "";
  file.text.split("\n").forEach((raw, i) => {
    const l = raw.trim();
    const commented = /^#\s*([A-Z][A-Z0-9_]*)\s*=/.exec(l);
    if (commented) {
      into.add(commented[1]!, "optional", ref(file, i + 1, ".env.example (commented out)"));
      return;
    }
    if (l.startsWith("#")) {
      comment = l.replace(/^#+\s*/, "");
      return;
    }
    const m = /^(?:export\s+)?([A-Z][A-Z0-9_]*)\s*=\s*(.*)$/.exec(l);
    if (!m) {
      comment = "";
      return;
    }
    const value = (m[2] ?? "").replace(/\s+#.*$/, "").replace(/^["']|["']$/g, "");
    const placeholder = value === "" || /your|<|xxx|\.\.\.|changeme|replace|here|example/i.test(value);
    const optional = /optional/i.test(comment) || /optional/i.test(raw.split("#")[1] ?? "") || !placeholder;
    into.add(m[1]!, optional ? "optional" : "required", ref(file, i + 1, ".env.example"), {
      ...(placeholder ? {} : { default: value }),
      ...(comment ? { description: comment.slice(0, 200) } : {}),
    });
    comment = "";
  });
}

/** Source reads: a bare read that is checked (throw/exit) or indexed (`os.environ["X"]`) is required; one with a fallback is optional. */
export function envFromSource(file: EvidenceFile, into: EnvCollector): void {
  const lines = file.text.split("\n");
  const patterns: [RegExp, (m: RegExpExecArray, line: string, i: number) => "required" | "optional" | "mentioned"][] = [
    [/process\.env(?:\.([A-Z][A-Z0-9_]*)|\[\s*["']([A-Z][A-Z0-9_]*)["']\s*\])/g, (m, line, i) => jsVerdict(m, line, lines, i)],
    [/os\.environ\[\s*["']([A-Z][A-Z0-9_]*)["']\s*\]/g, () => "required"],
    [/(?:os\.environ\.get|os\.getenv|getenv)\(\s*["']([A-Z][A-Z0-9_]*)["']\s*(,)?/g, (m, _line, i) => (m[2] ? "optional" : checkedNearby(m[1] ?? "", lines, i) ? "required" : "mentioned")],
    [/(?:env::var|System\.getenv|Environment\.GetEnvironmentVariable)\(\s*"([A-Z][A-Z0-9_]*)"/g, (m, _l, i) => (checkedNearby(m[1] ?? "", lines, i) ? "required" : "mentioned")],
  ];
  lines.forEach((line, i) => {
    for (const [re, verdict] of patterns) {
      re.lastIndex = 0;
      for (let m = re.exec(line); m; m = re.exec(line)) {
        const name = m[1] ?? m[2];
        if (name) into.add(name, verdict(m, line, i), ref(file, i + 1, "read in source"));
      }
    }
  });
}

function jsVerdict(m: RegExpExecArray, line: string, lines: string[], i: number): "required" | "optional" | "mentioned" {
  const after = line.slice((m.index ?? 0) + m[0].length);
  if (/^\s*(\?\?|\|\|)/.test(after) || /^\s*\?\s/.test(after)) return "optional";
  if (/^\s*!/.test(after)) return "required";
  return checkedNearby(m[1] ?? m[2] ?? "", lines, i) ? "required" : "mentioned";
}

/** A check within a few lines that fails when the variable is missing. */
function checkedNearby(name: string, lines: string[], i: number): boolean {
  const window = lines.slice(Math.max(0, i - 1), i + 6).join("\n");
  const line = lines[i] ?? "";
  const assigned = /(?:const|let|var)?\s*([A-Za-z_][A-Za-z0-9_]*)\s*[:=]/.exec(line)?.[1];
  const names = [name, assigned].filter((n): n is string => !!n && n !== "const");
  return names.some((n) => new RegExp(`(if\\s*\\(?\\s*(!|not\\s+)[\\w.\\[\\]"']*${n}|${n}\\s*(===?|is)\\s*(undefined|None|null))[\\s\\S]{0,200}?(throw|exit|raise|Error|required|missing)`, "i").test(window))
    || new RegExp(`(required|missing)[^\\n]{0,60}${name}|${name}[^\\n]{0,60}(is required|must be set|required)`, "i").test(window);
}

/** README: names in env tables/lists/exports; "required"/"optional" on the same line decide. */
export function envFromReadme(file: EvidenceFile, into: EnvCollector): void {
  const lines = file.text.split("\n");
  let inEnvSection = false;
  lines.forEach((line, i) => {
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (heading) inEnvSection = /env|config|setup|auth|credential|api key|token/i.test(heading[1] ?? "");
    const names = new Set<string>();
    for (const m of line.matchAll(/`([A-Z][A-Z0-9_]{2,})`/g)) names.add(m[1]!);
    for (const m of line.matchAll(/(?:^|\s)(?:export\s+|set\s+|\$env:)?([A-Z][A-Z0-9_]{2,})=/g)) names.add(m[1]!);
    for (const m of line.matchAll(/(?:-e|--env)\s+([A-Z][A-Z0-9_]{2,})/g)) names.add(m[1]!);
    for (const m of line.matchAll(/^\s*\|\s*`?([A-Z][A-Z0-9_]{2,})`?\s*\|/g)) names.add(m[1]!);
    for (const m of line.matchAll(/"([A-Z][A-Z0-9_]{2,})"\s*:/g)) names.add(m[1]!);
    for (const name of names) {
      if (!/_/.test(name) && !/(KEY|TOKEN|SECRET)$/.test(name)) continue;
      const verdict = /\boptional\b|\(optional\)|default[s:]?\b|defaults to/i.test(line)
        ? "optional"
        : /\brequired\b|\bmust\b|\*\*required\*\*|\| *yes *\|/i.test(line)
          ? "required"
          : "mentioned";
      if (verdict === "mentioned" && !inEnvSection && !/env|export|-e |=|"[A-Z_]+"\s*:/i.test(line)) continue;
      const cells = line.includes("|") ? line.split("|").map((c) => c.trim()).filter((c) => c && !c.includes(name) && !/^(yes|no|required|optional|true|false|-+)$/i.test(c)) : [];
      const listDesc = /`[A-Z0-9_]+`\s*[:—–-]\s*(.+)$/.exec(line)?.[1]?.trim();
      const desc = cells.sort((a, b) => b.length - a.length)[0] ?? listDesc;
      into.add(name, verdict, ref(file, i + 1, "README"), desc ? { description: desc.slice(0, 200) } : {});
    }
  });
}

/** smithery.yaml: names set in `commandFunction`'s env; required when their config key is required. */
export function envFromSmithery(file: EvidenceFile, into: EnvCollector): void {
  const required = new Set<string>();
  const req = /required:\s*\[([^\]]*)\]/.exec(file.text) ?? /required:\s*\n((?:\s+-\s*\S+\n?)+)/.exec(file.text);
  if (req) for (const m of (req[1] ?? "").matchAll(/["']?([A-Za-z_][A-Za-z0-9_]*)["']?/g)) required.add(m[1]!);
  file.text.split("\n").forEach((line, i) => {
    for (const m of line.matchAll(/\b([A-Z][A-Z0-9_]{2,})\s*:\s*config\.([A-Za-z_][A-Za-z0-9_]*)/g)) {
      into.add(m[1]!, required.has(m[2]!) ? "required" : "optional", ref(file, i + 1, "smithery.yaml"));
    }
  });
}
