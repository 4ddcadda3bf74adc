/**
 * The one step every proposal passes before anyone sees it, whether the heuristics built it from a
 * repository or Claude answered with it: a proposal never asks for a privilege. Host mounts,
 * `bridge` egress, lifecycles that share state, limits above the defaults and images built from
 * the registry repository are removed (the operator adds them in review, within the policy); so
 * is whatever the registry rules or the strictest operator policy refuse: refused variable and
 * header names, runtime arguments the launcher would not pass, private, loopback, link-local or
 * too-wide targets; and names that are the daemon's, the propose Action's or CI's own credentials.
 * Everything removed is recorded (where, what, why) for the pull request. Input from a model may
 * have any shape: nothing here trusts it; the schema check that follows rejects what is left over.
 */
import { DAEMON_NAMES } from "../registry/credential-names.js";
import { DEFAULT_RESOURCES } from "../registry/defaults.js";
import { formatPath } from "../registry/diagnostic.js";
import type { Problem } from "../registry/file-rules.js";
import { DEFAULT_POLICY, policyRules, sizeBytes } from "../registry/policy.js";
import { refusedSettingRules } from "../registry/refused-settings.js";
import { envStyleName } from "../registry/store-lookups.js";
import type { RegistryFile } from "../registry/types.js";

export interface DroppedSetting {
  /** Where it was in the proposal, e.g. `router.mounts[0]`. */
  path: string;
  /** What was asked for, e.g. `host mount / → /host`. */
  what: string;
  /** Why it is not proposed. */
  why: string;
  /** Who proposed it: `heuristics`, `Claude`, `server.json`. */
  from?: string;
}

export interface SanitizedProposal {
  entry: RegistryFile;
  dropped: DroppedSetting[];
}

type Json = Record<string, unknown>;
type Segments = (string | number)[];

const isObject = (v: unknown): v is Json => !!v && typeof v === "object" && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

const OPERATOR_ADDS = "the operator adds it in review if the server needs it, within the operator policy; a proposal never asks for it";

/** A copy of `entry` without privileges, and what was removed. Idempotent. */
export function sanitizeProposal(entry: RegistryFile, from?: string): SanitizedProposal {
  const doc = structuredClone(entry) as unknown as Json;
  const dropped: DroppedSetting[] = [];
  const drop = (segments: Segments, what: string, why: string) => dropped.push({ path: formatPath(segments), what, why, ...(from ? { from } : {}) });

  const router = isObject(doc.router) ? doc.router : undefined;
  if (router) {
    if (router.mounts !== undefined) {
      const mounts = list(router.mounts);
      if (!mounts.length) drop(["router", "mounts"], "host mounts", OPERATOR_ADDS);
      mounts.forEach((m, i) => drop(["router", "mounts", i], `host mount ${isObject(m) ? `${String(m.source)} → ${String(m.target)}` : JSON.stringify(m)}`, `a host folder is ${OPERATOR_ADDS}`));
      delete router.mounts;
    }
    if (router.network === "bridge") {
      drop(["router", "network"], "network: bridge", "unrestricted egress (the host's private network included) is never proposed; name the API hosts in `network: {allow: [...]}` instead");
      delete router.network;
    } else if (router.network !== undefined && typeof router.network !== "string" && !(isObject(router.network) && Array.isArray(router.network.allow))) {
      drop(["router", "network"], `network ${JSON.stringify(router.network)}`, "not a network setting a registry file can hold (none, public or {allow: [hosts]})");
      delete router.network;
    }
    if (router.lifecycle !== undefined && router.lifecycle !== "per-call") {
      drop(["router", "lifecycle"], `lifecycle: ${String(router.lifecycle)}`, `a lifecycle that shares state between calls is ${OPERATOR_ADDS}`);
      delete router.lifecycle;
    }
    if (isObject(router.limits)) {
      const limits = router.limits;
      for (const field of ["memory", "tmpfs", "cpus", "pids", "timeoutSeconds"] as const) {
        const asked = limits[field];
        if (asked === undefined) continue;
        const most = DEFAULT_RESOURCES[field];
        const above = typeof most === "string" ? !(typeof asked === "string" && sizeBytes(asked) <= sizeBytes(most)) : !(typeof asked === "number" && asked <= most);
        if (above) {
          drop(["router", "limits", field], `limits.${field}: ${String(asked)}`, `above the default of ${most}; a raised limit is ${OPERATOR_ADDS}`);
          delete limits[field];
        }
      }
      if (!Object.keys(limits).length) delete router.limits;
    }
    if (router.build !== undefined) {
      drop(["router", "build"], "an image built from a Dockerfile in the registry repository", `building images from the registry repository is ${OPERATOR_ADDS}`);
      delete router.build;
    }
  }
  dropDaemonNames(doc, drop);
  dropRefused(doc, drop);
  return { entry: doc as unknown as RegistryFile, dropped };
}

/** Variables, headers and template variables named like the daemon's, the propose Action's or CI's own credentials. */
function dropDaemonNames(doc: Json, drop: (segments: Segments, what: string, why: string) => void): void {
  const daemon = (name: unknown) => typeof name === "string" && (DAEMON_NAMES.test(name.toUpperCase()) || DAEMON_NAMES.test(envStyleName(name)));
  const why = "the daemon's, the propose Action's or CI's own credential name: a server never gets those; if it needs such a key, the reviewer declares a name of its own";
  const filter = (owner: Json, key: string, segments: Segments, kind: string) => {
    if (!Array.isArray(owner[key])) return;
    const kept: unknown[] = [];
    (owner[key] as unknown[]).forEach((input, i) => {
      const variables = isObject(input) && isObject(input.variables) ? Object.keys(input.variables) : [];
      const name = isObject(input) ? input.name : undefined;
      const bad = daemon(name) ? name : variables.find(daemon);
      if (bad === undefined) kept.push(input);
      else drop([...segments, key, i], `${kind} ${String(name)}${bad !== name ? ` (its variable ${String(bad)})` : ""}`, why);
    });
    if (kept.length) owner[key] = kept;
    else delete owner[key];
  };
  list(doc.packages).forEach((p, i) => {
    if (!isObject(p)) return;
    filter(p, "environmentVariables", ["packages", i], "environment variable");
    filter(p, "packageArguments", ["packages", i], "package argument");
    if (isObject(p.transport)) filter(p.transport, "headers", ["packages", i, "transport"], "header");
  });
  const remotes = list(doc.remotes);
  const keptRemotes = remotes.filter((r, i) => {
    if (!isObject(r)) return true;
    filter(r, "headers", ["remotes", i], "header");
    const bad = isObject(r.variables) ? Object.keys(r.variables).find(daemon) : undefined;
    if (bad !== undefined) drop(["remotes", i], `remote ${String(r.url)} (its variable ${bad})`, why);
    return bad === undefined;
  });
  if (Array.isArray(doc.remotes)) {
    if (keptRemotes.length) doc.remotes = keptRemotes;
    else delete doc.remotes;
  }
  const router = isObject(doc.router) ? doc.router : undefined;
  const openapi = router && isObject(router.openapi) ? router.openapi : undefined;
  if (openapi && isObject(openapi.auth) && daemon(openapi.auth.secret)) {
    drop(["router", "openapi", "auth"], `OpenAPI auth secret ${String(openapi.auth.secret)}`, why);
    delete openapi.auth;
  }
}

/** Removes, one at a time, whatever the registry rules or the strictest operator policy refuse, until nothing is refused. */
function dropRefused(doc: Json, drop: (segments: Segments, what: string, why: string) => void): void {
  for (;;) {
    const problem = refusedProblems(doc)[0];
    if (!problem) return;
    const unit = removableUnit(problem.segments);
    const before = JSON.stringify(doc);
    const what = describe(doc, unit);
    remove(doc, unit);
    // A problem that removing its part cannot cure is left for validation to report.
    if (JSON.stringify(doc) === before) return;
    drop(unit, what, problem.message);
  }
}

function refusedProblems(doc: Json): Problem[] {
  const entry = doc as unknown as RegistryFile;
  // A model's answer may not have the schema's shape; the rules assume it, so a shape they
  // cannot read is left for the schema check (which refuses the whole answer).
  const safely = (rules: () => Problem[]) => {
    try {
      return rules();
    } catch {
      return [];
    }
  };
  return [...safely(() => refusedSettingRules(entry)), ...safely(() => policyRules(entry, DEFAULT_POLICY))];
}

/** The smallest part of the document that removing takes the refused setting away: the list item it is in, else the block. */
function removableUnit(segments: Segments): Segments {
  for (let end = segments.length; end > 0; end--) if (typeof segments[end - 1] === "number") return segments.slice(0, end);
  if (segments[0] === "router" && segments[1] === "openapi") return segments[2] === "auth" ? ["router", "openapi", "auth"] : ["router", "openapi"];
  return segments.length ? segments : ["router"];
}

function at(doc: Json, segments: Segments): unknown {
  let node: unknown = doc;
  for (const s of segments) node = Array.isArray(node) ? node[s as number] : isObject(node) ? node[String(s)] : undefined;
  return node;
}

function describe(doc: Json, unit: Segments): string {
  const node = at(doc, unit);
  const parent = unit[unit.length - 2];
  const obj = isObject(node) ? node : {};
  switch (parent) {
    case "environmentVariables":
      return `environment variable ${String(obj.name)}`;
    case "headers":
      return `header ${String(obj.name)}`;
    case "runtimeArguments":
    case "packageArguments":
      return `${parent === "runtimeArguments" ? "runtime" : "package"} argument ${[obj.name, obj.value ?? obj.valueHint].filter((x) => x !== undefined).map(String).join(" ")}`;
    case "allow":
      return `allowlist entry ${String(node)}`;
    case "remotes":
      return `remote ${String(obj.url)}`;
    case "mounts":
      return `host mount ${String(obj.source)} → ${String(obj.target)}`;
    default:
      return `${formatPath(unit).replace(/^router\./, "")}${typeof node === "string" || typeof node === "number" ? `: ${node}` : ""}`;
  }
}

/** Removes the unit; a list left empty goes too (an allowlist with no hosts means no network). */
function remove(doc: Json, unit: Segments): void {
  const parentPath = unit.slice(0, -1);
  const parent = at(doc, parentPath);
  const last = unit[unit.length - 1] as string | number;
  if (Array.isArray(parent) && typeof last === "number") {
    parent.splice(last, 1);
    if (parent.length) return;
    const owner = at(doc, parentPath.slice(0, -1));
    const key = parentPath[parentPath.length - 1] as string;
    if (isObject(owner)) {
      delete owner[key];
      // `network: {allow: []}` is not a network: none it is.
      if (key === "allow" && parentPath[0] === "router" && parentPath[1] === "network" && !Object.keys(owner).length) {
        const router = at(doc, ["router"]);
        if (isObject(router)) delete router.network;
      }
    }
  } else if (isObject(parent)) {
    delete parent[String(last)];
    // `limits: {}` says nothing: it goes too.
    const owner = at(doc, parentPath.slice(0, -1));
    if (!Object.keys(parent).length && parentPath.length >= 2 && isObject(owner)) delete owner[String(parentPath[parentPath.length - 1])];
  }
}
