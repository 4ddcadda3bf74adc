/**
 * Deterministic analysis of the evidence: candidates for how to run the server (each with the
 * evidence it came from), environment variables, and the best registry entry. No network.
 * An existing server.json is authoritative.
 */
import { fromServerJson, suggestPrefix } from "../registry/server-json.js";
import type { Package, RegistryFile, Remote } from "../registry/types.js";
import { EnvCollector, envFromEnvExample, envFromReadme, envFromSmithery, envFromSource, type EnvFinding, type EvidenceRef } from "./env-findings.js";
import { evidenceOf, type Evidence, type EvidenceFile } from "./evidence.js";
import { findRunCommands, type Runtime } from "./run-commands.js";
import { stripSecrets } from "./strip-secrets.js";

export type { Runtime } from "./run-commands.js";

export interface Candidate {
  runtime: Runtime;
  identifier: string;
  version?: string;
  transport: "stdio" | "streamable-http" | "sse";
  args: string[];
  env: string[];
  score: number;
  evidence: EvidenceRef[];
}

export interface Analysis {
  /** True when the entry comes from the repository's own server.json. */
  authoritative: boolean;
  candidates: Candidate[];
  best?: Candidate;
  env: EnvFinding[];
  name: string;
  prefix: string;
  /** The best registry entry the heuristics can build (validate it before use). */
  entry: RegistryFile;
  /** Things a reviewer should know: guesses, missing facts. */
  notes: string[];
}

interface Manifest {
  runtime: "npx" | "uvx";
  name: string;
  version?: string;
  description?: string;
  bins: string[];
  mcpDependency: boolean;
  file: EvidenceFile;
}

export function analyze(evidence: Evidence): Analysis {
  const notes: string[] = [];
  const env = new EnvCollector();
  const serverJson = evidenceOf(evidence, "server.json");
  if (serverJson) {
    const fromFile = fromExistingServerJson(evidence, serverJson, notes);
    if (fromFile) return fromFile;
  }

  const manifests = [npmManifest(evidenceOf(evidence, "package.json")), pypiManifest(evidenceOf(evidence, "pyproject.toml"))].filter((m): m is Manifest => !!m);
  const readme = evidenceOf(evidence, "readme");
  const commands = readme ? findRunCommands(readme.text) : [];
  const candidates: Candidate[] = [];
  const addCandidate = (c: Candidate) => {
    const same = candidates.find((x) => x.runtime === c.runtime && x.identifier === c.identifier);
    if (!same) {
      candidates.push(c);
      return;
    }
    same.score += Math.min(c.score, 3);
    same.version ??= c.version;
    if (!same.args.length && c.args.length) same.args = c.args;
    same.env = [...new Set([...same.env, ...c.env])];
    same.evidence.push(...c.evidence);
  };

  for (const m of manifests) {
    const realPackage = m.bins.length > 0 || m.mcpDependency;
    addCandidate({
      runtime: m.runtime,
      identifier: m.name,
      ...(m.version ? { version: m.version } : {}),
      transport: "stdio",
      args: [],
      env: [],
      score: 3 + (m.mcpDependency ? 2 : 0) + (m.bins.length ? 1 : 0) + (/mcp/i.test(m.name) ? 1 : 0) - (realPackage ? 0 : 2),
      evidence: [{ path: m.file.path, url: m.file.url, note: `${m.file.kind} name${m.version ? ` and version ${m.version}` : ""}` }],
    });
  }
  for (const c of commands) {
    let identifier = c.identifier;
    let runtime = c.runtime;
    // A README that runs the bin name of our own manifest runs our package.
    const viaBin = manifests.find((m) => m.bins.includes(identifier));
    if (viaBin) {
      identifier = viaBin.name;
      runtime = viaBin.runtime;
    }
    const matchesManifest = manifests.some((m) => m.runtime === runtime && m.name.toLowerCase() === identifier.toLowerCase());
    const base = c.via === "mcpServers" ? 6 : 4;
    addCandidate({
      runtime,
      identifier,
      ...(c.version && !/^latest$/i.test(c.version) ? { version: c.version } : {}),
      transport: c.runtime === "remote" ? (c.transport ?? "streamable-http") : "stdio",
      args: c.args.filter((a) => !/^-y$|^--yes$/.test(a)),
      env: c.env,
      score: base + (matchesManifest ? 3 : 0) + (c.runtime === "docker" && evidenceOf(evidence, "dockerfile") ? 1 : 0),
      evidence: [{ path: readme!.path, url: lineUrl(readme!, c.line), line: c.line, note: c.via === "mcpServers" ? "README mcpServers config" : "README command" }],
    });
  }
  const dockerfile = evidenceOf(evidence, "dockerfile");
  if (dockerfile && !candidates.some((c) => c.runtime === "docker")) {
    addCandidate({
      runtime: "docker",
      identifier: `ghcr.io/${evidence.meta.owner}/${evidence.meta.repo}`.toLowerCase(),
      transport: "stdio",
      args: [],
      env: [],
      score: manifests.length ? 0 : 1,
      evidence: [{ path: dockerfile.path, url: dockerfile.url, note: "Dockerfile (image name guessed)" }],
    });
  }
  candidates.sort((a, b) => b.score - a.score || order(a.runtime) - order(b.runtime));
  const best = candidates[0];

  // Environment: config of the chosen candidate first, then the other sources.
  if (best && readme) {
    for (const name of best.env) env.add(name, "required", { path: readme.path, url: readme.url, note: "env of the README config" });
  }
  for (const f of evidence.files) {
    if (f.kind === "env-example") envFromEnvExample(f, env);
    if (f.kind === "source") envFromSource(f, env);
    if (f.kind === "smithery") envFromSmithery(f, env);
  }
  if (readme) envFromReadme(readme, env);
  const envFindings = env.findings().sort((a, b) => Number(b.required) - Number(a.required) || a.name.localeCompare(b.name));

  const manifest = best ? manifests.find((m) => m.runtime === best.runtime && m.name.toLowerCase() === best.identifier.toLowerCase()) : undefined;
  const name = serverName(evidence, best);
  const prefix = suggestPrefix(name);
  const description = clip(manifest?.description ?? evidence.meta.description ?? firstSentence(readme?.text) ?? `MCP server ${evidence.meta.repo}`, 100);
  const version = resolveVersion(best, manifests, evidence, notes);
  const entry: RegistryFile = {
    name,
    description,
    version: version ?? "",
    ...(evidence.meta.htmlUrl.startsWith("https://") ? { repository: repositoryOf(evidence) } : {}),
  };
  if (!best) notes.push("No way to run the server was found (no package manifest, README command or config snippet).");
  else if (best.runtime === "remote") {
    const remote: Remote = { type: best.transport === "sse" ? "sse" : "streamable-http", url: best.identifier };
    const headers = envFindings.filter((e) => e.secret && best.env.includes(e.name));
    if (headers.length) remote.headers = headers.map((h) => ({ name: h.name, isRequired: h.required, isSecret: true }));
    entry.remotes = [remote];
  } else {
    const pkg: Package = {
      registryType: best.runtime === "npx" ? "npm" : best.runtime === "uvx" ? "pypi" : "oci",
      identifier: best.runtime === "docker" && version ? `${best.identifier}:${version}` : best.identifier,
      ...(best.runtime !== "docker" && version ? { version } : {}),
      runtimeHint: best.runtime,
      transport: { type: "stdio" },
    };
    const args = packageArguments(best.args, notes);
    if (args.length) pkg.packageArguments = args;
    const vars = envFindings.filter((e) => e.required || best.env.includes(e.name) || e.evidence.some((r) => r.note !== "README"));
    if (vars.length) {
      pkg.environmentVariables = vars.map((e) => ({
        name: e.name,
        ...(e.description ? { description: e.description } : {}),
        isRequired: e.required,
        ...(e.secret ? { isSecret: true } : {}),
        ...(e.default !== undefined && !e.secret ? { default: e.default } : {}),
      }));
    }
    entry.packages = [pkg];
  }
  if (best && version === undefined && best.runtime !== "remote") {
    notes.push(`No exact version of ${best.identifier} was found; fill in \`version\` before merging.`);
  }
  if (best?.evidence.some((e) => /guessed/.test(e.note))) notes.push(`The image name ${best.identifier} is a guess from the Dockerfile; check where the image is published.`);
  entry.router = { prefix, ...networkOf(best, envFindings, evidence) };
  return { authoritative: false, candidates, ...(best ? { best } : {}), env: envFindings, name, prefix, entry: stripSecrets(entry).entry, notes };
}

function fromExistingServerJson(evidence: Evidence, file: EvidenceFile, notes: string[]): Analysis | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(file.text);
  } catch {
    notes.push(`${file.path} is not valid JSON; ignored.`);
    return undefined;
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc) || typeof (doc as { name?: unknown }).name !== "string") return undefined;
  const { $schema: _s, ...rest } = doc as Record<string, unknown>;
  const name = String(rest.name);
  const prefix = suggestPrefix(name);
  const entry = stripSecrets(fromServerJson(rest, prefix)).entry;
  const pkg = entry.packages?.[0];
  const remote = entry.remotes?.[0];
  const best: Candidate | undefined = pkg
    ? {
        runtime: pkg.runtimeHint === "uvx" || pkg.registryType === "pypi" ? "uvx" : pkg.registryType === "oci" ? "docker" : "npx",
        identifier: pkg.registryType === "oci" ? pkg.identifier.replace(/[:@][^/]*$/, "") : pkg.identifier,
        ...(pkg.version ? { version: pkg.version } : {}),
        transport: pkg.transport.type,
        args: [],
        env: (pkg.environmentVariables ?? []).map((v) => v.name),
        score: 100,
        evidence: [{ path: file.path, url: file.url, note: "the repository's own server.json" }],
      }
    : remote
      ? { runtime: "remote", identifier: remote.url, transport: remote.type, args: [], env: [], score: 100, evidence: [{ path: file.path, url: file.url, note: "the repository's own server.json" }] }
      : undefined;
  const env: EnvFinding[] = (pkg?.environmentVariables ?? []).map((v) => ({
    name: v.name,
    required: !!v.isRequired,
    secret: !!v.isSecret,
    evidence: [{ path: file.path, url: file.url, note: "server.json" }],
  }));
  return { authoritative: true, candidates: best ? [best] : [], ...(best ? { best } : {}), env, name, prefix, entry, notes: [...notes, `Taken from the repository's own ${file.path}.`] };
}

function npmManifest(file: EvidenceFile | undefined): Manifest | undefined {
  if (!file) return undefined;
  let pkg: Record<string, unknown>;
  try {
    pkg = JSON.parse(file.text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof pkg.name !== "string" || pkg.private === true) return undefined;
  const bin = pkg.bin;
  const bins = typeof bin === "string" ? [pkg.name.replace(/^@[^/]+\//, "")] : bin && typeof bin === "object" ? Object.keys(bin) : [];
  const deps = { ...(pkg.dependencies as object | undefined), ...(pkg.peerDependencies as object | undefined) };
  return {
    runtime: "npx",
    name: pkg.name,
    ...(typeof pkg.version === "string" && pkg.version !== "0.0.0" ? { version: pkg.version } : {}),
    ...(typeof pkg.description === "string" ? { description: pkg.description } : {}),
    bins,
    mcpDependency: Object.keys(deps).some((d) => /modelcontextprotocol|fastmcp|mcp-framework|^mcp$/.test(d)),
    file,
  };
}

/** The few pyproject.toml fields we need, read without a TOML library: [project] / [tool.poetry] name, version, description, scripts. */
export function pypiManifest(file: EvidenceFile | undefined): Manifest | undefined {
  if (!file) return undefined;
  const sections = new Map<string, string[]>();
  let current = "";
  for (const line of file.text.split("\n")) {
    const header = /^\s*\[([^\]]+)\]\s*$/.exec(line);
    if (header) {
      current = header[1]!.trim();
      continue;
    }
    (sections.get(current) ?? sections.set(current, []).get(current)!).push(line);
  }
  const field = (section: string, key: string) => {
    for (const l of sections.get(section) ?? []) {
      const m = new RegExp(`^\\s*${key}\\s*=\\s*["']([^"']*)["']`).exec(l);
      if (m) return m[1];
    }
    return undefined;
  };
  const keys = (section: string) => (sections.get(section) ?? []).map((l) => /^\s*["']?([A-Za-z0-9_.-]+)["']?\s*=/.exec(l)?.[1]).filter((k): k is string => !!k);
  const name = field("project", "name") ?? field("tool.poetry", "name");
  if (!name) return undefined;
  const version = field("project", "version") ?? field("tool.poetry", "version");
  const description = field("project", "description") ?? field("tool.poetry", "description");
  const deps = [...(sections.get("project") ?? []), ...(sections.get("tool.poetry.dependencies") ?? [])].join("\n");
  return {
    runtime: "uvx",
    name: name.toLowerCase(),
    ...(version ? { version } : {}),
    ...(description ? { description } : {}),
    bins: [...keys("project.scripts"), ...keys("tool.poetry.scripts")],
    mcpDependency: /["'\s](mcp|fastmcp)(\[[^\]]*\])?\s*([<>=~!]|["'])/.test(deps),
    file,
  };
}

function resolveVersion(best: Candidate | undefined, manifests: Manifest[], evidence: Evidence, notes: string[]): string | undefined {
  if (!best) return undefined;
  if (best.runtime === "remote") {
    if (evidence.meta.latestRelease) return evidence.meta.latestRelease.replace(/^v(?=\d)/, "");
    notes.push("A remote server has no package version; 1.0.0 was used for the entry's `version`.");
    return "1.0.0";
  }
  const exact = (v: string | undefined) => (v && !/^latest$/i.test(v) && !/^[~^<>=*]/.test(v) ? v.replace(/^v(?=\d)/, "") : undefined);
  const fromCmd = exact(best.version);
  if (fromCmd) return fromCmd;
  const manifest = manifests.find((m) => m.name.toLowerCase() === best.identifier.toLowerCase()) ?? (best.runtime === "docker" ? manifests[0] : undefined);
  const fromManifest = exact(manifest?.version);
  if (fromManifest) return fromManifest;
  const release = exact(evidence.meta.latestRelease);
  if (release) {
    notes.push(`Version ${release} is the repository's latest release tag; check it matches the published package.`);
    return release;
  }
  return undefined;
}

function serverName(evidence: Evidence, best: Candidate | undefined): string {
  const owner = evidence.meta.owner.toLowerCase().replace(/[^a-z0-9.-]/g, "-");
  let last = evidence.subfolder ? evidence.subfolder.split("/").pop()! : evidence.meta.repo;
  if (best && best.runtime !== "remote" && best.runtime !== "docker") {
    const pkgLast = best.identifier.replace(/^@[^/]+\//, "");
    // `@playwright/mcp` names nothing by its last segment: keep the repository's name then.
    if (!/^(mcp|server|mcp-server|server-mcp)$/i.test(pkgLast)) last = pkgLast;
  }
  return `io.github.${owner}/${last.replace(/[^A-Za-z0-9._-]/g, "-")}`;
}

function repositoryOf(evidence: Evidence): NonNullable<RegistryFile["repository"]> {
  return {
    url: evidence.meta.htmlUrl,
    source: "github",
    ...(evidence.meta.id ? { id: evidence.meta.id } : {}),
    ...(evidence.subfolder ? { subfolder: evidence.subfolder } : {}),
  };
}

function networkOf(best: Candidate | undefined, env: EnvFinding[], evidence: Evidence): Pick<NonNullable<RegistryFile["router"]>, "network"> {
  if (!best || best.runtime === "remote") return {};
  const hosts = new Set<string>();
  for (const f of evidence.files.filter((x) => x.kind === "source")) {
    for (const m of f.text.matchAll(/["'`]https:\/\/([a-z0-9.-]+\.[a-z]{2,})(?::\d+)?[/"'`]/gi)) {
      const host = m[1]!.toLowerCase();
      if (!/(github\.com\/[^/]+\/|example\.(com|org)|localhost|schema|json-schema|w3\.org|modelcontextprotocol\.io)/.test(host)) hosts.add(host);
    }
  }
  const [first, ...others] = [...hosts].sort();
  if (first !== undefined && hosts.size <= 6) return { network: { allow: [first, ...others] } };
  if (env.some((e) => e.secret) || hosts.size > 6) return { network: "bridge" };
  return {};
}

function lineUrl(file: EvidenceFile, line: number): string {
  return file.url.startsWith("http") ? `${file.url}#L${line}` : file.url;
}

function order(r: Runtime): number {
  return ["npx", "uvx", "docker", "remote"].indexOf(r);
}

function clip(text: string, max: number): string {
  const t = text.replace(/\s+/g, " ").trim();
  return t.length <= max ? t : `${t.slice(0, max - 1).replace(/\s+\S*$/, "")}…`.slice(0, max);
}

function firstSentence(markdown: string | undefined): string | undefined {
  if (!markdown) return undefined;
  for (const raw of markdown.split("\n")) {
    const l = raw.trim();
    if (!l || /^(#|!\[|\[!|<|```|\||>|-{3,})/.test(l)) continue;
    return l.replace(/[*_`[\]]/g, "").split(/(?<=\.)\s/)[0];
  }
  return undefined;
}

function isPlaceholder(arg: string): boolean {
  return /^[<{$~]|\/path\/to|path\/to\/|your[-_]|YOUR|\/Users\/|\/home\/|C:\\|xxx|\*\*\*/i.test(arg);
}

function placeholderName(arg: string): string {
  const base = arg.replace(/[<>{}$]/g, "").replace(/\/+$/, "");
  return /\//.test(base) ? "path" : base || "value";
}

type Argument = NonNullable<Package["packageArguments"]>[number];

/** README arguments as registry arguments: `--flag value` and `--flag=value` are named; placeholders become value hints; placeholder flag values are left out. */
function packageArguments(raw: string[], notes: string[]): Argument[] {
  const out: Argument[] = [];
  for (let i = 0; i < raw.length; i++) {
    const a = raw[i]!;
    if (a.startsWith("-")) {
      const eq = a.indexOf("=");
      const name = eq > 0 ? a.slice(0, eq) : a;
      let value = eq > 0 ? a.slice(eq + 1) : undefined;
      const next = raw[i + 1];
      if (value === undefined && next !== undefined && !next.startsWith("-") && name.startsWith("--")) {
        value = next;
        i++;
      }
      if (value !== undefined && isPlaceholder(value)) {
        notes.push(`The README passes \`${name} ${value}\`; it was left out because the value is a placeholder.`);
        continue;
      }
      if (!/^-{1,2}[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) continue;
      out.push({ type: "named", name, ...(value !== undefined ? { value } : {}) });
    } else if (isPlaceholder(a)) {
      out.push({ type: "positional", valueHint: placeholderName(a), isRequired: true, description: `e.g. ${a}` });
    } else {
      out.push({ type: "positional", value: a });
    }
  }
  return out;
}
