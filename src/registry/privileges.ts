/**
 * What a registry file lets its server do, for the reviewer: every value it reads from the
 * daemon's secret store (with what the file says it is for), its network egress, host mounts,
 * lifecycle, limits, runtime and package arguments, remote URLs and headers, OpenAPI targets and
 * credential, and an image built from the registry repository. Each item is marked ⚠ when it goes
 * beyond the defaults or names a credential that is also someone else's, and ⛔ when the registry
 * rules or (given one) the operator policy refuse it. Pure; never shows a value that could be a
 * secret: fixed values are named, not printed, and the file holds no secret values anyway.
 */
import { DEFAULT_RESOURCES } from "./defaults.js";
import { credentialNameNote } from "./credential-names.js";
import { formatPath } from "./diagnostic.js";
import type { Problem } from "./file-rules.js";
import { policyRules, sizeBytes, type OperatorPolicy } from "./policy.js";
import { ignoredRuntimeArgument, refusedSettingRules } from "./refused-settings.js";
import { storeLookups } from "./store-lookups.js";
import type { Argument, KeyValueInput, RegistryFile } from "./types.js";

export interface PrivilegeItem {
  /** The kind of setting: `secret`, `store value`, `environment variable`, `network`, `mount`, `lifecycle`, `limit`, `runtime argument`, `package argument`, `runs`, `remote`, `header`, `openapi`, `build`, `refused setting`. */
  setting: string;
  /** Where in the file, e.g. `router.mounts[0]`. */
  path: string;
  /** What it is, e.g. `/srv/docs → /docs (read-only)`. */
  detail: string;
  /** Beyond the defaults, or a name that deserves a second look. */
  warn: boolean;
  /** What the file says it is for (a secret's description). */
  why?: string;
  /** Why it is marked ⚠. */
  note?: string;
  /** What the registry rules or the operator policy say against it: refused when present. */
  refused?: string[];
}

export interface PrivilegeSummary {
  name: string;
  prefix?: string;
  items: PrivilegeItem[];
  /** Items refused by the registry rules or the operator policy. */
  refusedCount: number;
  warnCount: number;
  /** The policy the file was checked against (`the default operator policy`, `the operator policy /etc/...`), when one was given. */
  policy?: string;
}

interface Draft extends Omit<PrivilegeItem, "path" | "refused"> {
  segments: (string | number)[];
}

export interface PrivilegeOptions {
  /** Also mark what this operator policy refuses. */
  policy?: OperatorPolicy;
}

export function privilegeSummary(entry: Readonly<RegistryFile>, options: PrivilegeOptions = {}): PrivilegeSummary {
  const drafts: Draft[] = [];
  const add = (segments: (string | number)[], setting: string, detail: string, extra: { warn?: boolean; why?: string; note?: string } = {}) =>
    drafts.push({ segments, setting, detail, warn: extra.warn ?? false, ...(extra.why ? { why: extra.why } : {}), ...(extra.note ? { note: extra.note } : {}) });
  const router = entry.router;
  const packages = entry.packages ?? [];
  const packageIndex = router?.package ?? 0;
  const pkg = router?.openapi || router?.build ? undefined : packages[packageIndex];
  const remoteIndex = router?.remote ?? 0;
  const remote = !router?.openapi && !router?.build && !packages.length ? entry.remotes?.[remoteIndex] : undefined;

  // What runs.
  if (router?.build) {
    const b = router.build;
    add(["router", "build"], "build", `image built from ${code(b.dockerfile)}${b.context ? ` (context ${code(b.context)})` : ""}${b.command ? `, command ${code(b.command.join(" "))}` : ""}`, {
      warn: true,
      note: "the image is built from a Dockerfile in the registry repository: review that Dockerfile and its context as part of this change",
    });
  } else if (router?.openapi) {
    const o = router.openapi;
    add(["router", "openapi", "spec"], "openapi", `spec ${code(o.spec)}`, httpNote(o.spec));
    if (o.baseUrl) add(["router", "openapi", "baseUrl"], "openapi", `calls ${code(o.baseUrl)}`, httpNote(o.baseUrl));
    if (o.auth) {
      const a = o.auth;
      const where = a.type === "apiKey" ? ` in ${a.in ?? "header"} ${code(a.name ?? "")}` : "";
      add(["router", "openapi", "auth"], "openapi", `auth ${a.type}${where}${a.secret ? `, secret ${code(a.secret)}` : ", no secret named"}${a.username ? `, user ${code(a.username)}` : ""}`);
    }
  } else if (pkg) {
    const at = ["packages", packageIndex];
    const version = pkg.version ? `@${pkg.version}` : "";
    add(at, "runs", `${pkg.registryType} ${code(`${pkg.identifier}${version}`)} (${pkg.transport.type}${pkg.runtimeHint ? `, ${pkg.runtimeHint}` : ""})`);
    if (pkg.transport.type !== "stdio") {
      add([...at, "transport", "url"], "transport", `serves ${code(pkg.transport.url)} inside its container`);
      (pkg.transport.headers ?? []).forEach((h, i) => add([...at, "transport", "headers", i], "header", headerDetail(h)));
    }
    (pkg.runtimeArguments ?? []).forEach((arg, i) => {
      const ignored = ignoredRuntimeArgument(arg, pkg);
      add([...at, "runtimeArguments", i], "runtime argument", code(argumentText(arg)), ignored ? { warn: true, note: ignored } : {});
    });
    (pkg.packageArguments ?? []).forEach((arg, i) => add([...at, "packageArguments", i], "package argument", code(argumentText(arg))));
  } else if (remote) {
    const at = ["remotes", remoteIndex];
    add([...at, "url"], "remote", `${remote.type} ${code(remote.url)}`, httpNote(remote.url));
    (remote.headers ?? []).forEach((h, i) => add([...at, "headers", i], "header", headerDetail(h)));
  }

  // What it reads from the store.
  const lookups = storeLookups(entry);
  for (const l of lookups) {
    const credential = credentialNameNote(l.name);
    const aliases = l.aliases.length ? `, or ${l.aliases.map(code).join(", ")}` : "";
    add(l.segments, l.secret ? "secret" : "store value", `${code(l.name)}${aliases} (${l.required ? "required" : "optional"})`, {
      ...(l.description ? { why: l.description } : {}),
      ...(credential ? { warn: true, note: credential.why } : {}),
    });
  }
  if (pkg) {
    (pkg.environmentVariables ?? []).forEach((v, i) => {
      const segments = ["packages", packageIndex, "environmentVariables", i];
      if (lookups.some((l) => startsWith(l.segments, segments))) return;
      add(segments, "environment variable", `${code(v.name)} (a fixed value in the file)`, v.description ? { why: v.description } : {});
    });
  }

  // Where it may connect, what it may see, how long it lives, how much it may use.
  const network = router?.network;
  if (pkg || router?.build || network !== undefined) {
    if (network === undefined || network === "none") add(["router", "network"], "network", "none (no egress)");
    else if (network === "public") add(["router", "network"], "network", "public: any public host on ports 80 and 443, through the egress proxy", { warn: true, note: "egress to any public host, not a list the reviewer can check" });
    else if (network === "bridge") add(["router", "network"], "network", "bridge: unrestricted egress", { warn: true, note: "any host and port, including the host's private network, unless the engine blocks it" });
    else add(["router", "network"], "network", `only ${network.allow.map(code).join(", ")}, through the egress proxy`);
  }
  (router?.mounts ?? []).forEach((m, i) => add(["router", "mounts", i], "mount", `host ${code(m.source)} → ${code(m.target)} (read-only)`, { warn: true, note: "a host folder the server can read" }));
  const lifecycle = router?.lifecycle ?? "per-call";
  add(["router", "lifecycle"], "lifecycle", LIFECYCLES[lifecycle], lifecycle === "per-call" ? {} : { warn: true, note: "state is shared between calls" });
  const limits = router?.limits ?? {};
  for (const field of ["memory", "tmpfs"] as const) {
    const asked = limits[field];
    if (asked !== undefined) {
      const above = !(sizeBytes(asked) <= sizeBytes(DEFAULT_RESOURCES[field]));
      add(["router", "limits", field], "limit", `${field} ${asked}`, above ? { warn: true, note: `above the default of ${DEFAULT_RESOURCES[field]}` } : {});
    }
  }
  for (const field of ["cpus", "pids", "timeoutSeconds"] as const) {
    const asked = limits[field];
    if (asked !== undefined) add(["router", "limits", field], "limit", `${field} ${asked}`, asked > DEFAULT_RESOURCES[field] ? { warn: true, note: `above the default of ${DEFAULT_RESOURCES[field]}` } : {});
  }
  if (limits.concurrency !== undefined) add(["router", "limits", "concurrency"], "limit", `at most ${limits.concurrency} at once`);

  return finish(entry, drafts, options.policy);
}

const LIFECYCLES = {
  "per-call": "per-call: a fresh container for every call (the default)",
  "per-session": "per-session: one instance per client session, kept between its calls",
  shared: "shared: one long-lived instance for every client and call",
} as const;

/** Attaches what the registry rules and the policy refuse to the items they concern; a refusal no item covers becomes an item of its own. */
function finish(entry: Readonly<RegistryFile>, drafts: Draft[], policy: OperatorPolicy | undefined): PrivilegeSummary {
  const problems: Problem[] = [...refusedSettingRules(entry), ...(policy ? policyRules(entry, policy) : [])];
  const refused = new Map<Draft, string[]>();
  for (const p of problems) {
    // The most specific item the problem concerns.
    const matches = drafts.filter((d) => startsWith(p.segments, d.segments) || startsWith(d.segments, p.segments));
    const best = matches.sort((a, b) => b.segments.length - a.segments.length)[0];
    if (best) refused.set(best, [...(refused.get(best) ?? []), p.message]);
    else {
      const orphan: Draft = { segments: p.segments, setting: "refused setting", detail: code(formatPath(p.segments)), warn: true };
      drafts.push(orphan);
      refused.set(orphan, [p.message]);
    }
  }
  const items = drafts.map((draft): PrivilegeItem => {
    const { segments, ...rest } = draft;
    const why = refused.get(draft);
    // A refusal that says what the note says replaces it.
    if (why && rest.note && why.includes(rest.note)) delete rest.note;
    return { ...rest, path: formatPath(segments), ...(why ? { warn: true, refused: why } : {}) };
  });
  return {
    name: entry.name,
    ...(entry.router?.prefix ? { prefix: entry.router.prefix } : {}),
    items,
    refusedCount: items.filter((i) => i.refused).length,
    warnCount: items.filter((i) => i.warn).length,
    ...(policy ? { policy: policy.source } : {}),
  };
}

function startsWith(path: readonly (string | number)[], prefix: readonly (string | number)[]): boolean {
  return prefix.length <= path.length && prefix.every((s, i) => s === path[i]);
}

function httpNote(target: string): { warn?: boolean; note?: string } {
  return /^http:\/\//i.test(target) ? { warn: true, note: "plain http: the traffic (and any credential sent with it) is not encrypted" } : {};
}

function headerDetail(h: KeyValueInput): string {
  if (h.value === undefined) return `${code(h.name)}: from the store`;
  return /\{[A-Za-z_][A-Za-z0-9_]*\}/.test(h.value) ? `${code(h.name)}: template ${code(h.value)}` : `${code(h.name)}: a fixed value in the file`;
}

/** An argument as it would be written; a secret one's value is never shown. */
function argumentText(arg: Argument): string {
  const value = arg.isSecret ? (arg.value ?? arg.default) !== undefined ? "<secret>" : undefined : (arg.value ?? arg.default);
  if (arg.type === "named") return `${arg.name}${value !== undefined ? ` ${value}` : ""}`;
  return value ?? `<${arg.valueHint ?? "value"}>`;
}

/** Marks a file's text as code; the renderers escape it for their medium. */
function code(text: string): string {
  return `\u0060${text.replace(/[\u0060\r\n]/g, " ")}\u0060`;
}

/** The mark of an item: ⛔ refused, ⚠ worth a second look, blank otherwise. */
export function privilegeMark(item: PrivilegeItem): string {
  return item.refused ? "⛔" : item.warn ? "⚠" : "";
}

/** A markdown section for a pull request body or comment. Text from the file is escaped (no HTML, no table breaks). */
export function privilegeMarkdown(summary: PrivilegeSummary, heading = "### What this server may do"): string {
  // File text in a detail sits in code spans (no backticks or newlines of its own); prose gets no HTML, links or line breaks.
  const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/[\r\n]+/g, " ");
  const prose = (s: string) => cell(s).replace(/([[\]])/g, "\\$1").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const lines = [heading, ""];
  const checked = summary.policy ? ` Checked against ${prose(summary.policy)}.` : "";
  lines.push(`⚠ beyond the defaults, or a name worth a second look; ⛔ refused by the registry rules${summary.policy ? " or the operator policy" : ""}.${checked}`, "");
  lines.push("| | Setting | Detail | Why | Where |", "| --- | --- | --- | --- | --- |");
  for (const item of summary.items) {
    const why = [item.why, item.note ? `⚠ ${item.note}` : undefined, ...(item.refused ?? []).map((r) => `⛔ ${r}`)].filter((s): s is string => !!s).map(prose).join("<br>");
    lines.push(`| ${privilegeMark(item)} | ${cell(item.setting)} | ${cell(item.detail)} | ${why} | \u0060${item.path.replace(/\u0060/g, "'")}\u0060 |`);
  }
  lines.push("", summaryLine(summary));
  return lines.join("\n") + "\n";
}

/** Plain text for a terminal: one line per item, its reasons indented under it. */
export function privilegeText(summary: PrivilegeSummary): string {
  const lines = [`${summary.name}${summary.prefix ? ` (${summary.prefix})` : ""} may:`];
  const width = Math.max(...summary.items.map((i) => i.setting.length), 0);
  for (const item of summary.items) {
    lines.push(`${(privilegeMark(item) || " ").padEnd(2)}${item.setting.padEnd(width)}  ${item.detail.replace(/`/g, "")}  [${item.path}]`);
    if (item.why) lines.push(`${" ".repeat(width + 4)}for: ${item.why.replace(/[\r\n]+/g, " ")}`);
    if (item.note) lines.push(`${" ".repeat(width + 4)}⚠ ${item.note}`);
    for (const r of item.refused ?? []) lines.push(`${" ".repeat(width + 4)}⛔ ${r}`);
  }
  lines.push("", summaryLine(summary));
  return lines.join("\n") + "\n";
}

function summaryLine(summary: PrivilegeSummary): string {
  const against = summary.policy ? ` (checked against ${summary.policy})` : "";
  if (summary.refusedCount) return `${summary.refusedCount} setting(s) refused, ${summary.warnCount} marked${against}.`;
  return `Nothing refused${against}; ${summary.warnCount} setting(s) marked for a second look.`;
}
