/**
 * The operator policy: what privileged settings reviewed registry files may use at all. It lives
 * outside the registry repository (a YAML file given with `--policy`), so a pull request cannot
 * widen it. A file beyond it is a located error that names the policy setting that would allow
 * it; the same check runs in `validate`, in the daemon, and on every proposal.
 *
 * ```yaml
 * mounts: [/srv/shared-docs]          # host folders files may mount read-only (default: none)
 * network:
 *   bridge: false                     # unrestricted egress (default: refused)
 *   privateTargets: false             # loopback, private, link-local targets (default: refused)
 * limits: {memory: 2g, cpus: 2, pids: 1024, timeoutSeconds: 900, tmpfs: 1g, concurrency: 16}
 * lifecycles: [per-call, per-session, shared]
 * ```
 */
import { posix } from "node:path";
import { isMap, LineCounter, parseDocument } from "yaml";
import { ConfigError } from "../config-error.js";
import { cidrReachesNonPublic, isNonPublicHost } from "./address-ranges.js";
import type { Problem } from "./file-rules.js";
import type { Lifecycle, RegistryFile } from "./types.js";

export interface PolicyLimits {
  memory: string;
  cpus: number;
  pids: number;
  timeoutSeconds: number;
  tmpfs: string;
  concurrency: number;
}

export interface OperatorPolicy {
  /** Host folders (absolute) whose contents files may mount read-only. */
  readonly mounts: readonly string[];
  readonly network: { readonly bridge: boolean; readonly privateTargets: boolean };
  /** The most a file may ask for in `router.limits`. */
  readonly limits: Readonly<PolicyLimits>;
  readonly lifecycles: readonly Lifecycle[];
  /** Where the policy came from, for hints ("the operator policy /etc/mcp-router/policy.yaml"). */
  readonly source: string;
}

export const DEFAULT_POLICY: OperatorPolicy = {
  mounts: [],
  network: { bridge: false, privateTargets: false },
  limits: { memory: "2g", cpus: 2, pids: 1024, timeoutSeconds: 900, tmpfs: "1g", concurrency: 16 },
  lifecycles: ["per-call", "per-session", "shared"],
  source: "the default operator policy",
};

/** Host paths no policy can open to a registry file: the host itself, its control sockets, its secrets and its users' homes. */
const NEVER_MOUNTED = ["/proc", "/sys", "/dev", "/etc", "/boot", "/root", "/home", "/Users", "/run", "/var/run", "/var/lib/docker", "/var/lib/containerd", "/var/lib/kubelet"];

/** Why a host path can never be mounted, or undefined. */
export function neverMountable(source: string): string | undefined {
  const path = posix.normalize(source).replace(/\/+$/, "") || "/";
  if (path === "/") return "the host's root folder";
  if (/\.sock$|docker\.sock|containerd\.sock/.test(path)) return "a control socket (a container engine's socket is root on the host)";
  const under = NEVER_MOUNTED.find((p) => path === p || path.startsWith(`${p}/`));
  return under ? `${under} (host system state, secrets or users' home folders)` : undefined;
}

/** Parses `256m`, `1g`, `512k` or plain bytes; NaN for anything else. */
export function sizeBytes(size: string): number {
  const match = /^([1-9][0-9]*)([kmg]?)$/.exec(size);
  if (!match) return Number.NaN;
  return Number(match[1]) * { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2] as "" | "k" | "m" | "g"];
}

/** Every setting of `entry` that the policy does not allow, located by document path. */
export function policyRules(entry: Readonly<RegistryFile>, policy: OperatorPolicy): Problem[] {
  const problems: Problem[] = [];
  const router = entry.router;
  const where = `in ${policy.source}`;
  /** `allow`: the policy setting that would allow it; `instead`: what the file can do within the policy. */
  const refuse = (segments: (string | number)[], setting: string, message: string, allow: string, instead?: string) =>
    problems.push({ segments, rule: `policy.${setting}`, message, hint: `${instead ? `${instead} ` : ""}${allow} ${where} would allow it; a registry file cannot widen the policy.` });

  (router?.mounts ?? []).forEach((mount, i) => {
    const source = posix.normalize(mount.source);
    const allowed = policy.mounts.some((dir) => {
      const base = posix.normalize(dir).replace(/\/+$/, "") || "/";
      return source === base || source.startsWith(`${base}/`);
    });
    if (!allowed) refuse(["router", "mounts", i, "source"], "mounts", `mounting the host folder ${mount.source} is not allowed by the operator policy`, `Listing ${mount.source} (or a folder above it) under \`mounts:\``, "Remove the mount, or ask the operator:");
  });

  const network = router?.network;
  if (network === "bridge" && !policy.network.bridge) {
    refuse(["router", "network"], "network-bridge", "`network: bridge` (unrestricted egress, including the host's private network) is not allowed by the operator policy", "`network: {bridge: true}`", "Use `network: public` (public hosts through the egress proxy) or `network: {allow: [hosts]}`.");
  }
  if (!policy.network.privateTargets) {
    const privateTarget = (segments: (string | number)[], what: string) =>
      refuse(segments, "private-targets", `${what} is a loopback, private or link-local target, which the operator policy does not allow`, "`network: {privateTargets: true}`", "Point it at a public address, or ask the operator:");
    if (network && typeof network === "object") {
      network.allow.forEach((pattern, i) => {
        const host = allowlistHost(pattern);
        const cidr = /^([\d.]+)\/(\d{1,2})$/.exec(host);
        if (cidr ? cidrReachesNonPublic(cidr[1] as string, Number(cidr[2])) : isNonPublicHost(host.replace(/^\*\./, "x."))) privateTarget(["router", "network", "allow", i], `allowlist entry "${pattern}"`);
      });
    }
    const checkUrl = (value: string | undefined, segments: (string | number)[], what: string) => {
      const host = urlHost(value);
      if (host !== undefined && isNonPublicHost(host)) privateTarget(segments, `${what} ${value}`);
    };
    (entry.remotes ?? []).forEach((remote, i) => checkUrl(remote.url, ["remotes", i, "url"], "remote url"));
    checkUrl(router?.openapi?.spec, ["router", "openapi", "spec"], "OpenAPI spec");
    checkUrl(router?.openapi?.baseUrl, ["router", "openapi", "baseUrl"], "OpenAPI baseUrl");
  }

  const limits = router?.limits ?? {};
  const max = policy.limits;
  const over = (field: keyof PolicyLimits, asked: number, most: number, shown: string) => {
    if (asked > most) refuse(["router", "limits", field], "limits", `${field} ${shown} is above the operator policy's maximum of ${max[field]}`, `\`limits: {${field}: ${shown}}\``, `Ask for at most ${max[field]}, or ask the operator:`);
  };
  if (limits.memory !== undefined) over("memory", sizeBytes(limits.memory), sizeBytes(max.memory), limits.memory);
  if (limits.tmpfs !== undefined) over("tmpfs", sizeBytes(limits.tmpfs), sizeBytes(max.tmpfs), limits.tmpfs);
  if (limits.cpus !== undefined) over("cpus", limits.cpus, max.cpus, String(limits.cpus));
  if (limits.pids !== undefined) over("pids", limits.pids, max.pids, String(limits.pids));
  if (limits.timeoutSeconds !== undefined) over("timeoutSeconds", limits.timeoutSeconds, max.timeoutSeconds, String(limits.timeoutSeconds));
  if (limits.concurrency !== undefined) over("concurrency", limits.concurrency, max.concurrency, String(limits.concurrency));

  const lifecycle = router?.lifecycle;
  if (lifecycle && !policy.lifecycles.includes(lifecycle)) {
    refuse(["router", "lifecycle"], "lifecycles", `lifecycle ${lifecycle} is not allowed by the operator policy (allowed: ${policy.lifecycles.join(", ")})`, `Adding ${lifecycle} to \`lifecycles:\``, "Use an allowed lifecycle, or ask the operator:");
  }
  return problems;
}

/** The host of an allowlist pattern, without its port. */
function allowlistHost(pattern: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(pattern);
  if (bracketed) return bracketed[1] as string;
  if ((pattern.match(/:/g) ?? []).length > 1) return pattern;
  return pattern.replace(/:\d+$/, "");
}

/** The host of an absolute http(s) URL; undefined for paths and for hosts that are `{templates}`. */
function urlHost(value: string | undefined): string | undefined {
  if (value === undefined || !/^https?:\/\//i.test(value)) return undefined;
  try {
    const host = new URL(value).hostname;
    return /[{}]|%7b/i.test(host) ? undefined : host;
  } catch {
    return undefined;
  }
}

const LIFECYCLES: readonly Lifecycle[] = ["per-call", "per-session", "shared"];

/** Reads a policy file; every mistake is a ConfigError naming the file, the line and the setting. */
export function parsePolicy(text: string, file: string): OperatorPolicy {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, strict: true, maxAliasCount: 0 } as Parameters<typeof parseDocument>[1]);
  const fail = (message: string, offset = 0, hint = "See SECURITY.md (operator policy) for the settings and their defaults."): never => {
    const { line, col } = lineCounter.linePos(offset);
    throw new ConfigError("POLICY_INVALID", `${file}:${line}:${col}  ${message}`, hint);
  };
  if (doc.errors.length) fail(doc.errors[0]?.message.split("\n")[0] ?? "not valid YAML", doc.errors[0]?.pos[0]);
  if (doc.contents === null) return { ...DEFAULT_POLICY, source: `the operator policy ${file}` };
  if (!isMap(doc.contents)) fail("the policy must be a mapping (mounts, network, limits, lifecycles)");
  const offsetOf = (path: (string | number)[]) => (doc.getIn(path, true) as { range?: [number, number] } | undefined)?.range?.[0] ?? 0;
  const raw = doc.toJS() as Record<string, unknown>;
  const known = new Set(["mounts", "network", "limits", "lifecycles"]);
  for (const key of Object.keys(raw)) if (!known.has(key)) fail(`unknown setting "${key}" (known: ${[...known].join(", ")})`, offsetOf([key]));

  const mounts = raw.mounts ?? [];
  if (!Array.isArray(mounts) || mounts.some((m) => typeof m !== "string" || !m.startsWith("/"))) fail("mounts must be a list of absolute host folders", offsetOf(["mounts"]));
  (mounts as string[]).forEach((m, i) => {
    const never = neverMountable(m);
    if (never) fail(`mounts[${i}]: ${m} can never be mounted into a server: ${never}`, offsetOf(["mounts", i]), "List a folder that holds only what servers may read, e.g. /srv/mcp-data.");
  });

  const network = (raw.network ?? {}) as Record<string, unknown>;
  if (typeof network !== "object" || Array.isArray(network)) fail("network must be a mapping {bridge, privateTargets}", offsetOf(["network"]));
  for (const [key, value] of Object.entries(network)) {
    if (key !== "bridge" && key !== "privateTargets") fail(`unknown network setting "${key}" (known: bridge, privateTargets)`, offsetOf(["network", key]));
    if (typeof value !== "boolean") fail(`network.${key} must be true or false`, offsetOf(["network", key]));
  }

  const limits = { ...DEFAULT_POLICY.limits };
  const rawLimits = (raw.limits ?? {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(rawLimits)) {
    const at = offsetOf(["limits", key]);
    if (key === "memory" || key === "tmpfs") {
      if (typeof value !== "string" || Number.isNaN(sizeBytes(value))) fail(`limits.${key} must be a size such as 2g or 512m`, at);
      limits[key] = value as string;
    } else if (key === "cpus" || key === "pids" || key === "timeoutSeconds" || key === "concurrency") {
      if (typeof value !== "number" || !(value > 0)) fail(`limits.${key} must be a positive number`, at);
      limits[key] = value as number;
    } else fail(`unknown limit "${key}" (known: ${Object.keys(DEFAULT_POLICY.limits).join(", ")})`, at);
  }

  const lifecycles = raw.lifecycles ?? DEFAULT_POLICY.lifecycles;
  if (!Array.isArray(lifecycles) || lifecycles.some((l) => !LIFECYCLES.includes(l as Lifecycle))) fail(`lifecycles must be a list of ${LIFECYCLES.join(", ")}`, offsetOf(["lifecycles"]));

  return {
    mounts: mounts as string[],
    network: { bridge: network.bridge === true, privateTargets: network.privateTargets === true },
    limits,
    lifecycles: lifecycles as Lifecycle[],
    source: `the operator policy ${file}`,
  };
}
