/**
 * A repository's own `server.json`, of any published revision, normalised into the current schema
 * (2025-12-11, camelCase): snake_case and 2025-07 field names mapped, unknown fields dropped (the
 * allowed fields come from schemas/server.schema.json), over-long text shortened, flag-like
 * positional values made named arguments, docker `-e NAME` runtime arguments turned into declared
 * environment variables, host mounts and network flags dropped, and `${VERSION}`-style templates
 * resolved from the package manifest (or left for the resolver). Every change is recorded, so the
 * reviewer sees what was not taken verbatim. Pure: no I/O besides reading the schema once.
 */
import { readFileSync } from "node:fs";
import { registrySchemaPath } from "./registry-tool-schema.js";
import type { DroppedSetting } from "./sanitize-proposal.js";

export const CURRENT_SERVER_JSON_SCHEMA = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json";

export interface NormalizedServerJson {
  /** The document in the current schema (not yet validated). */
  doc: Record<string, unknown>;
  /** What was changed, one sentence each, for the PR body. */
  changes: string[];
  /** Values still unknown after normalising (e.g. a `$VERSION` template with no manifest version). */
  unresolved: string[];
  /** Privileged runtime arguments it asked for (mounts, ports, network, `--privileged`), removed: the pull request lists them. */
  dropped: DroppedSetting[];
}

type Json = Record<string, unknown>;

const RENAMES: Record<string, string> = {
  registry_type: "registryType",
  registry_name: "registryType",
  registry_base_url: "registryBaseUrl",
  file_sha256: "fileSha256",
  runtime_hint: "runtimeHint",
  runtime_arguments: "runtimeArguments",
  package_arguments: "packageArguments",
  environment_variables: "environmentVariables",
  is_required: "isRequired",
  is_secret: "isSecret",
  is_repeated: "isRepeated",
  value_hint: "valueHint",
  website_url: "websiteUrl",
  mime_type: "mimeType",
  transport_type: "type",
};

let allowed: Record<string, Set<string>> | undefined;

/** Allowed property names per schema definition, read from schemas/server.schema.json. */
function allowedFields(): Record<string, Set<string>> {
  if (allowed) return allowed;
  const schema = JSON.parse(readFileSync(registrySchemaPath(), "utf8")) as { properties?: Json; definitions?: Record<string, { properties?: Json }> };
  const out: Record<string, Set<string>> = { top: new Set(Object.keys(schema.properties ?? {})) };
  for (const [k, v] of Object.entries(schema.definitions ?? {})) out[k] = new Set(Object.keys(v.properties ?? {}));
  allowed = out;
  return out;
}

const TEMPLATE = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$|\{\{\s*\.?([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/;

export interface NormalizeContext {
  /** Version from the package manifest of the same repository, used for `${VERSION}` templates. */
  manifestVersion?: string;
  /** Longest description kept. */
  maxDescription?: number;
}

export function normalizeServerJson(input: unknown, context: NormalizeContext = {}): NormalizedServerJson {
  const changes: string[] = [];
  const unresolved: string[] = [];
  const dropped: DroppedSetting[] = [];
  const fields = allowedFields();
  const src = camel(input, changes) as Json;
  const doc: Json = {};
  for (const [k, v] of Object.entries(src)) {
    if (k === "router") continue;
    if (fields.top?.has(k)) doc[k] = v;
    else changes.push(`Dropped the unknown top-level field \`${k}\`.`);
  }
  if (doc.$schema !== CURRENT_SERVER_JSON_SCHEMA) {
    if (doc.$schema !== undefined) changes.push(`Converted from schema ${String(doc.$schema).replace(/^.*schemas\/([^/]+)\/.*$/, "$1")} to 2025-12-11.`);
    doc.$schema = CURRENT_SERVER_JSON_SCHEMA;
  }
  const max = context.maxDescription ?? 100;
  if (typeof doc.description === "string" && doc.description.length > max) {
    doc.description = shorten(doc.description, max);
    changes.push(`Shortened the description to ${max} characters.`);
  }
  doc.version = resolveTemplate(doc.version, "version", context, changes, unresolved);
  if (doc.repository && typeof doc.repository === "object") doc.repository = pick(doc.repository as Json, fields.Repository, "repository", changes);

  const packages = Array.isArray(doc.packages) ? (doc.packages as Json[]) : [];
  doc.packages = packages.map((p, i) => normalizePackage(p, i, context, changes, unresolved, dropped));
  if (!packages.length) delete doc.packages;
  const remotes = Array.isArray(doc.remotes) ? (doc.remotes as Json[]) : [];
  doc.remotes = remotes.map((r, i) => {
    const out = pick(r, fields.Remote, `remotes[${i}]`, changes);
    if (Array.isArray(out.headers)) out.headers = (out.headers as Json[]).map((h, j) => pick(h, fields.KeyValueInput, `remotes[${i}].headers[${j}]`, changes));
    return out;
  });
  if (!remotes.length) delete doc.remotes;
  return { doc, changes, unresolved, dropped };
}

function normalizePackage(raw: Json, i: number, context: NormalizeContext, changes: string[], unresolved: string[], dropped: DroppedSetting[]): Json {
  const fields = allowedFields();
  const where = `packages[${i}]`;
  const p: Json = { ...raw };
  // 2025-07: `name` + `version_detail.version` + `registry_name`.
  if (p.identifier === undefined && typeof p.name === "string") {
    p.identifier = p.name;
    changes.push(`${where}: \`name\` became \`identifier\`.`);
  }
  const detail = p.versionDetail ?? p.version_detail;
  if (p.version === undefined && detail && typeof detail === "object" && typeof (detail as Json).version === "string") p.version = (detail as Json).version;
  if (typeof p.registryType === "string") {
    const t = p.registryType.toLowerCase();
    p.registryType = t === "docker" || t === "docker-hub" || t === "ghcr" ? "oci" : t;
  }
  if (typeof p.transport === "string") p.transport = { type: p.transport };
  if (p.transport === undefined) p.transport = { type: "stdio" };
  const out = pick(p, fields.Package, where, changes, ["name", "versionDetail", "version_detail"]);
  if (out.transport && typeof out.transport === "object") {
    const t = out.transport as Json;
    out.transport = t.type === "stdio" ? { type: "stdio" } : pick(t, fields.StreamableHttpTransport, `${where}.transport`, changes);
  }

  // Versions: templates, `latest`, OCI tags.
  out.version = resolveTemplate(out.version, `${where}.version`, context, changes, unresolved);
  if (out.version === "latest" || out.version === "0.0.0") {
    changes.push(`${where}: version \`${String(out.version)}\` is not an exact published version; it is resolved separately.`);
    delete out.version;
  }
  if (out.registryType === "oci" && typeof out.identifier === "string") {
    const m = /^(.*?)(?::([^/:@]+))?$/.exec(out.identifier);
    const image = m?.[1] ?? out.identifier;
    let tag = m?.[2];
    if (tag && TEMPLATE.test(tag)) tag = resolveTemplate(tag, `${where}.identifier tag`, context, changes, unresolved) as string | undefined;
    if (!tag || tag === "latest" || tag === "0.0.0") {
      const v = typeof out.version === "string" ? out.version : undefined;
      if (v) {
        tag = v;
        changes.push(`${where}: the image is pinned to tag ${v} (was ${m?.[2] ? `\`${m[2]}\`` : "untagged"}).`);
      } else {
        if (m?.[2]) changes.push(`${where}: the image tag \`${m[2]}\` is not pinned; it is resolved separately.`);
        tag = undefined;
        unresolved.push(`${where}.identifier tag`);
      }
    }
    out.identifier = tag ? `${image}:${tag}` : image;
    delete out.version;
  }

  // Arguments: flag-like positionals become named; docker -e become env; mounts and network flags are dropped.
  const env: Json[] = Array.isArray(out.environmentVariables) ? (out.environmentVariables as Json[]).map((e, j) => pick(e, fields.KeyValueInput, `${where}.environmentVariables[${j}]`, changes)) : [];
  for (const kind of ["runtimeArguments", "packageArguments"] as const) {
    const list = Array.isArray(out[kind]) ? (out[kind] as Json[]) : [];
    const kept: Json[] = [];
    for (let j = 0; j < list.length; j++) {
      const a = list[j]!;
      const value = typeof a.value === "string" ? a.value : typeof a.default === "string" ? a.default : undefined;
      const flag = a.type === "named" ? String(a.name ?? "") : value ?? "";
      if (kind === "runtimeArguments" && /^(-e|--env)$/.test(flag)) {
        const next = a.type === "named" ? a : list[j + 1];
        if (a.type !== "named") j++;
        const spec = String(next?.value ?? next?.default ?? next?.valueHint ?? "");
        const name = /^([A-Za-z_][A-Za-z0-9_]*)/.exec(spec)?.[1];
        if (name && !env.some((e) => e.name === name)) {
          const declared: Json = { name, ...(typeof next?.description === "string" ? { description: next.description } : {}), ...(next?.isRequired !== undefined ? { isRequired: next.isRequired } : {}), ...(next?.isSecret !== undefined ? { isSecret: next.isSecret } : {}) };
          env.push(declared);
        }
        changes.push(`${where}: the docker argument \`-e ${name ?? spec}\` became a declared environment variable.`);
        continue;
      }
      if (kind === "runtimeArguments" && /^(-v|--volume|--mount|--network|--net|-p|--publish|--privileged|--cap-add|--device)(=|$)/.test(flag)) {
        const takesValue = !/^--privileged/.test(flag) && !flag.includes("=");
        const shown = a.type === "named" ? [flag, value].filter((x) => x !== undefined).join(" ") : takesValue ? `${flag} ${String(list[j + 1]?.value ?? list[j + 1]?.default ?? "")}`.trim() : flag;
        dropped.push({ path: `server.json ${where}.runtimeArguments[${j}]`, what: `runtime argument ${shown}`, why: "mounts, ports, network and container privileges are the operator's to grant in review (router policy), never taken from a repository", from: "server.json" });
        if (a.type !== "named" && takesValue) j++;
        changes.push(`${where}: the runtime argument \`${flag.replace(/=.*/, "")}\` was dropped (mounts, ports and network are router policy, shown to the reviewer separately).`);
        continue;
      }
      if (kind === "runtimeArguments" && /^(-i|--interactive|--rm|-t|--tty|--init|run)$/.test(flag)) {
        changes.push(`${where}: the docker argument \`${flag}\` was dropped (the launcher sets it).`);
        continue;
      }
      if (a.type === "positional" && value && /^--?[A-Za-z]/.test(value)) {
        const eq = value.indexOf("=");
        const named: Json = { type: "named", name: eq > 0 ? value.slice(0, eq) : value, ...(eq > 0 ? { value: value.slice(eq + 1) } : {}) };
        kept.push(named);
        changes.push(`${where}: the positional value \`${value}\` became the named argument \`${String(named.name)}\`.`);
        continue;
      }
      kept.push(pick(a, a.type === "named" ? fields.NamedArgument : fields.PositionalArgument, `${where}.${kind}[${j}]`, changes));
    }
    if (kept.length) out[kind] = kept;
    else delete out[kind];
  }
  for (const e of env) if (typeof e.description === "string" && e.description.length > 200) e.description = shorten(e.description, 200);
  if (env.length) out.environmentVariables = env;
  else delete out.environmentVariables;
  return out;
}

function resolveTemplate(value: unknown, where: string, context: NormalizeContext, changes: string[], unresolved: string[]): unknown {
  if (typeof value !== "string") return value;
  if (!TEMPLATE.test(value) && !/\$\{?[A-Z_]+\}?/.test(value)) return value;
  if (context.manifestVersion) {
    changes.push(`${where}: the template \`${value}\` was resolved to ${context.manifestVersion} from the package manifest.`);
    return context.manifestVersion;
  }
  changes.push(`${where}: the template \`${value}\` could not be resolved offline.`);
  unresolved.push(where);
  return undefined;
}

/** Deep snake_case -> camelCase for the known field names. */
function camel(node: unknown, changes: string[]): unknown {
  if (Array.isArray(node)) return node.map((n) => camel(n, changes));
  if (!node || typeof node !== "object") return node;
  const out: Json = {};
  let renamed = false;
  for (const [k, v] of Object.entries(node as Json)) {
    const key = RENAMES[k] ?? k;
    if (key !== k) renamed = true;
    if (out[key] === undefined) out[key] = camel(v, changes);
  }
  if (renamed && !changes.includes("Mapped snake_case fields (schema 2025-07) to camelCase.")) changes.push("Mapped snake_case fields (schema 2025-07) to camelCase.");
  return out;
}

function pick(obj: Json, keys: Set<string> | undefined, where: string, changes: string[], silent: string[] = []): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(obj)) {
    if (!keys || keys.has(k)) {
      out[k] = typeof v === "string" && k === "description" && v.length > 400 ? shorten(v, 400) : v;
    } else if (!silent.includes(k)) {
      changes.push(`${where}: dropped the unknown field \`${k}\`.`);
    }
  }
  return out;
}

export function shorten(text: string, max: number): string {
  const t = text.replace(/\s+/g, " ").trim();
  if (t.length <= max) return t;
  const sentence = /^(.{20,}?[.!?])\s/.exec(t)?.[1];
  if (sentence && sentence.length <= max) return sentence;
  return `${t.slice(0, max - 1).replace(/\s+\S*$/, "")}…`.slice(0, max);
}
