/**
 * Deterministic analysis of the evidence: candidates for how to run the server (each with the
 * evidence it came from), a weighted model of its environment variables, and the best registry
 * entry. No network. A repository's own server.json is normalised into the current schema and
 * MERGED with the other evidence (manifests, README, source) rather than trusted whole; where they
 * disagree, the reviewer is told. Whatever stays unknown offline becomes an explicit reviewer TODO
 * in a file that still validates.
 */
import { suggestPrefix } from "../registry/server-json.js";
import type { Package, RegistryFile, Remote } from "../registry/types.js";
import { EnvCollector, looksSecret, envFromDockerfile, envFromEnvExample, envFromServerJson, envFromSmithery, envFromSource, PRESENCE_THRESHOLD, type EnvFinding, type EvidenceRef } from "./env-findings.js";
import { evidenceOf, type Evidence, type EvidenceFile } from "./evidence.js";
import { envFromReadme } from "./readme-env.js";
import { normalizeServerJson, shorten } from "./normalize-server-json.js";
import { findRunCommands, type RunCommand, type Runtime } from "./run-commands.js";
import { sanitizeProposal, type DroppedSetting } from "./sanitize-proposal.js";
import { stripSecrets } from "./strip-secrets.js";

export type { Runtime } from "./run-commands.js";

/** The version written when none could be found offline: valid, and impossible to miss in review. */
export const UNRESOLVED_VERSION = "0.0.0-unresolved";

export interface Candidate {
  runtime: Runtime;
  identifier: string;
  version?: string;
  transport: "stdio" | "streamable-http" | "sse";
  args: string[];
  /** The arguments of each README command that runs this candidate (setup and help commands left out). */
  argSets?: string[][];
  env: string[];
  score: number;
  evidence: EvidenceRef[];
  /** Package arguments declared by server.json for this candidate. */
  declaredArgs?: Package["packageArguments"];
  /** `docker run` flags the README passes besides the implied ones: carried into the entry for the sanitiser to drop and report. */
  runtimeFlags?: RunCommand["runtimeFlags"];
  fromServerJson?: boolean;
}

export interface Analysis {
  /** True when the chosen entry comes from the repository's own server.json. */
  authoritative: boolean;
  candidates: Candidate[];
  best?: Candidate;
  /** Every variable the evidence names, with its verdict, mode and evidence (also those not proposed). */
  env: EnvFinding[];
  name: string;
  prefix: string;
  /** The best registry entry the heuristics can build (validate it before use). */
  entry: RegistryFile;
  /** Things a reviewer should know: guesses, missing facts, disagreements. */
  notes: string[];
  /** Facts the reviewer must fill in or confirm (e.g. an unresolved version); the entry still validates. */
  todos: string[];
  /** Where evidence disagreed (server.json vs manifest vs README). */
  disagreements: string[];
  /** What normalising the repository's server.json changed. */
  serverJsonChanges: string[];
  /** Privileges the evidence asked for and the entry does not have (mounts, runtime flags, refused or daemon names...). */
  dropped: DroppedSetting[];
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
  const todos: string[] = [];
  const disagreements: string[] = [];
  const manifests = [npmManifest(evidenceOf(evidence, "package.json")), pypiManifest(evidenceOf(evidence, "pyproject.toml"))].filter((m): m is Manifest => !!m);
  const readme = evidenceOf(evidence, "readme");
  const candidates: Candidate[] = [];
  const addCandidate = (c: Candidate) => {
    const same = candidates.find((x) => x.runtime === c.runtime && sameId(x.runtime, x.identifier, c.identifier));
    if (!same) {
      candidates.push(c);
      return;
    }
    same.score += Math.min(c.score, 3);
    same.version ??= c.version;
    if (!same.args.length && c.args.length) same.args = c.args;
    if (c.argSets) same.argSets = [...(same.argSets ?? []), ...c.argSets];
    same.declaredArgs ??= c.declaredArgs;
    same.runtimeFlags ??= c.runtimeFlags;
    same.fromServerJson ||= !!c.fromServerJson;
    same.env = [...new Set([...same.env, ...c.env])];
    same.evidence.push(...c.evidence);
  };

  // 1. The repository's own server.json, normalised.
  const sjFile = evidenceOf(evidence, "server.json");
  const sj = sjFile ? readServerJson(sjFile, manifests, notes) : undefined;
  const serverJsonChanges = sj?.changes ?? [];
  const sjPackages = (sj?.doc.packages ?? []) as Package[];
  const sjRemotes = (sj?.doc.remotes ?? []) as Remote[];
  // A server.json at least as new as the package manifest is the authors' current choice of how the
  // server is published (a remote-only server.json next to an older npm package means "use the
  // remote"); an older one may be stale, and then the README and manifest can outvote it.
  const sjVersion = typeof sj?.doc.version === "string" ? sj.doc.version : undefined;
  const sjCurrent = !!sjVersion && manifests.some((m) => m.version) && manifests.every((m) => !m.version || compareVersions(sjVersion, m.version) >= 0);
  const currentBonus = sjCurrent ? 20 : 0;
  sjPackages.forEach((p, i) => {
    const runtime: Runtime = p.registryType === "pypi" ? "uvx" : p.registryType === "oci" ? "docker" : p.registryType === "npm" ? "npx" : "npx";
    if (!["npm", "pypi", "oci"].includes(p.registryType)) return;
    const identifier = p.registryType === "oci" ? p.identifier.replace(/(@sha256:[a-f0-9]+|:[^/:]+)$/, "") : p.identifier;
    const tag = p.registryType === "oci" ? /:([^/:]+)$/.exec(p.identifier)?.[1] : p.version;
    addCandidate({
      runtime,
      identifier,
      ...(tag ? { version: tag } : {}),
      transport: p.transport.type,
      args: [],
      env: (p.environmentVariables ?? []).map((v) => v.name),
      score: 7 - Math.min(i, 3) + currentBonus,
      evidence: [{ path: sjFile!.path, url: sjFile!.url, note: "the repository's own server.json" }],
      ...(p.packageArguments?.length ? { declaredArgs: p.packageArguments } : {}),
      fromServerJson: true,
    });
  });
  sjRemotes.forEach((r, i) => {
    addCandidate({ runtime: "remote", identifier: r.url, transport: r.type, args: [], env: [], score: (sjPackages.length ? 2 : 7 + currentBonus) - Math.min(i, 3), evidence: [{ path: sjFile!.path, url: sjFile!.url, note: "server.json remote" }], fromServerJson: true });
  });

  // 2. Manifests and README commands.
  const commands = readme ? findRunCommands(readme.text) : [];
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
      args: [],
      ...(MAINTENANCE.test(c.args[0] ?? "") ? {} : { argSets: [c.args.filter((a) => !/^-y$|^--yes$/.test(a))] }),
      env: c.env,
      ...(c.runtimeFlags ? { runtimeFlags: c.runtimeFlags } : {}),
      score: base + (matchesManifest ? 3 : 0) + (c.runtime === "docker" && evidenceOf(evidence, "dockerfile") ? 1 : 0),
      evidence: [{ path: readme!.path, url: lineUrl(readme!, c.line), line: c.line, note: c.via === "mcpServers" ? "README mcpServers config" : "README command", quote: readme!.text.split("\n")[c.line - 1]?.trim().slice(0, 160) ?? "" }],
    });
  }
  const dockerfile = evidenceOf(evidence, "dockerfile");
  if (dockerfile && !candidates.some((c) => c.runtime === "docker") && !candidates.length) {
    addCandidate({
      runtime: "docker",
      identifier: `ghcr.io/${evidence.meta.owner}/${evidence.meta.repo}`.toLowerCase(),
      transport: "stdio",
      args: [],
      env: [],
      score: 1,
      evidence: [{ path: dockerfile.path, url: dockerfile.url, note: "Dockerfile (image name guessed)" }],
    });
  }
  candidates.sort((a, b) => b.score - a.score || order(a.runtime) - order(b.runtime));
  const best = candidates[0];
  if (best?.argSets?.length) best.args = commonArguments(best.argSets);

  // Disagreements between server.json and the rest.
  if (sj) {
    const sjBest = candidates.find((c) => c.fromServerJson);
    if (best && sjBest && best !== sjBest && best.runtime === sjBest.runtime) {
      disagreements.push(`server.json names ${sjBest.runtime} \`${sjBest.identifier}\`, but the README/manifest run \`${best.identifier}\`; the latter is proposed.`);
    }
    for (const p of sjPackages) {
      const m = manifests.find((x) => (x.runtime === "npx" ? "npm" : "pypi") === p.registryType);
      if (m && m.name.toLowerCase() !== p.identifier.toLowerCase()) disagreements.push(`server.json's ${p.registryType} package is \`${p.identifier}\` but ${m.file.path} names \`${m.name}\`.`);
      if (m && p.version && m.version && p.version !== m.version && m.name.toLowerCase() === p.identifier.toLowerCase()) disagreements.push(`server.json says version ${p.version} but ${m.file.path} says ${m.version}; ${m.version} is proposed.`);
    }
  }

  // 3. The environment model: every source, weighted, with modes.
  const env = new EnvCollector();
  if (sj && sjFile) {
    const chosen = best?.fromServerJson ? sjPackages.find((p) => sameId(best.runtime, p.registryType === "oci" ? p.identifier.replace(/:[^/:]+$/, "") : p.identifier, best.identifier)) : undefined;
    const declared = (chosen ?? sjPackages[0])?.environmentVariables ?? [];
    envFromServerJson(sjFile, declared as { name: string; isRequired?: boolean; description?: string; default?: string }[], env);
    if (!declared.length && sjPackages.length) notes.push(`${sjFile.path} declares no environment variables; README and source were read for them.`);
  }
  for (const f of evidence.files) {
    if (f.kind === "env-example") envFromEnvExample(f, env);
    if (f.kind === "source") envFromSource(f, env);
    if (f.kind === "smithery") envFromSmithery(f, env);
    if (f.kind === "readme") envFromReadme(f, env);
  }
  if (best?.runtime === "docker" && dockerfile) envFromDockerfile(dockerfile, env);
  const envFindings = env.findings().sort((a, b) => Number(b.required) - Number(a.required) || a.name.localeCompare(b.name));
  const dropped: DroppedSetting[] = [...(sj?.dropped ?? [])];
  for (const [name, at] of env.refusedAt) {
    dropped.push({ path: `${at.path}${at.line ? `:${at.line}` : ""}`, what: `environment variable ${name}`, why: "the daemon's, the propose Action's or CI's own credential name: a server never gets those", from: "heuristics" });
  }

  const manifest = best ? manifests.find((m) => m.runtime === best.runtime && m.name.toLowerCase() === best.identifier.toLowerCase()) : undefined;
  const name = typeof sj?.doc.name === "string" && /^[a-zA-Z0-9.-]+\/[a-zA-Z0-9._-]+$/.test(sj.doc.name) && best?.fromServerJson ? sj.doc.name : serverName(evidence, best);
  const prefix = suggestPrefix(name);
  const sjDescription = typeof sj?.doc.description === "string" ? sj.doc.description : undefined;
  const description = shorten(sjDescription ?? manifest?.description ?? evidence.meta.description ?? firstSentence(readme?.text) ?? `MCP server ${evidence.meta.repo}`, 100) || `MCP server ${evidence.meta.repo}`;
  const resolved = resolveVersion(best, manifests, evidence, notes);
  const version = resolved ?? (best ? UNRESOLVED_VERSION : "1.0.0");
  if (best && resolved === undefined) {
    todos.push(`Version of \`${best.identifier}\` not found offline (no manifest version, tag or release): \`${UNRESOLVED_VERSION}\` is a placeholder; set the published version before merging.`);
  }
  const entry: RegistryFile = {
    name,
    description,
    version,
    ...(evidence.meta.htmlUrl.startsWith("https://") ? { repository: repositoryOf(evidence) } : {}),
  };
  const proposed = envFindings.filter((e) => e.mode === "default" && e.score.presence >= PRESENCE_THRESHOLD);
  const byMode = (mode: string) => envFindings.filter((e) => e.mode === mode).map((e) => `\`${e.name}\``);
  for (const [mode, label] of [["http", "HTTP/SSE or hosted mode only"], ["hosted", "hosted deployment only"], ["dev", "development/tests only"], ["legacy", "names of an older version (migration notes)"]] as const) {
    const names = byMode(mode);
    if (names.length) notes.push(`Left out as ${label}: ${names.join(", ")}.`);
  }
  const weak = envFindings.filter((e) => e.mode === "default" && e.score.presence < PRESENCE_THRESHOLD).map((e) => `\`${e.name}\``);
  if (weak.length) notes.push(`Read in source or listed once but not documented, so not proposed: ${weak.join(", ")}.`);
  const oneOf = [...new Set(proposed.map((e) => e.oneOf).filter((x): x is string => !!x))];
  for (const o of oneOf) notes.push(`Alternatives: ${o}; each is optional in the file, but the server needs one of them.`);

  if (!best) notes.push("No way to run the server was found (no package manifest, README command or config snippet).");
  else if (best.runtime === "remote") {
    const remote: Remote = { type: best.transport === "sse" ? "sse" : "streamable-http", url: best.identifier };
    const sjRemote = sjRemotes.find((r) => r.url === best.identifier);
    if (sjRemote?.headers?.length) remote.headers = sjRemote.headers;
    else {
      const headers = proposed.filter((e) => e.secret && best.env.includes(e.name));
      if (headers.length) remote.headers = headers.map((h) => ({ name: h.name, isRequired: h.required, isSecret: true }));
    }
    entry.remotes = [remote];
  } else {
    const pkg: Package = {
      registryType: best.runtime === "npx" ? "npm" : best.runtime === "uvx" ? "pypi" : "oci",
      identifier: best.runtime === "docker" ? `${best.identifier}:${resolved ?? UNRESOLVED_VERSION}` : best.identifier,
      ...(best.runtime !== "docker" ? { version } : {}),
      runtimeHint: best.runtime,
      transport: { type: "stdio" },
    };
    // server.json's declared arguments: the required ones and those with a value; an optional flag with
    // no value is documentation of an option (`--readOnly`, `--transport`), not part of the command.
    const declared = (best.declaredArgs ?? []).filter((a) => a.isRequired || ("value" in a && a.value !== undefined));
    const args = best.args.length ? packageArguments(best.args, notes) : declared;
    if (args.length) pkg.packageArguments = args;
    if (best.runtime === "docker" && best.runtimeFlags?.length) pkg.runtimeArguments = best.runtimeFlags.map((f) => ({ type: "named", ...f }));
    if (proposed.length) {
      pkg.environmentVariables = proposed.map((e) => ({
        name: e.name,
        ...(e.description || e.oneOf ? { description: shorten([e.description, e.oneOf ? `(${e.oneOf.replace(/ \([^)]*\)$/, "")})` : ""].filter(Boolean).join(" "), 200) } : {}),
        isRequired: e.required,
        ...(e.secret ? { isSecret: true } : {}),
        ...(e.default !== undefined && !e.secret ? { default: e.default } : {}),
      }));
    }
    entry.packages = [pkg];
  }
  if (best?.evidence.some((e) => /guessed/.test(e.note))) todos.push(`The image name ${best.identifier} is a guess from the Dockerfile; check where the image is published.`);
  entry.router = { prefix, ...networkOf(best, envFindings, evidence, notes) };
  for (const c of serverJsonChanges) notes.push(`server.json: ${c}`);
  const sanitized = sanitizeProposal(stripSecrets(entry).entry, "heuristics");
  // README flags were dropped from the entry's runtime arguments: say which README line asked for them.
  const flagsFrom = best?.evidence.find((e) => e.line !== undefined);
  for (const d of sanitized.dropped) {
    if (flagsFrom && d.path.startsWith("packages[0].runtimeArguments")) d.path = `${flagsFrom.path}:${flagsFrom.line}`;
    // A variable: the line of the evidence that asked for it.
    const asked = /^environment variable (\S+)$/.exec(d.what)?.[1];
    const ref = asked ? envFindings.find((e) => e.name === asked)?.evidence.find((e) => e.line !== undefined) : undefined;
    if (ref) d.path = `${ref.path}:${ref.line}`;
  }
  dropped.push(...sanitized.dropped);
  return {
    authoritative: !!best?.fromServerJson,
    candidates,
    ...(best ? { best } : {}),
    env: envFindings,
    name,
    prefix,
    entry: sanitized.entry,
    notes,
    todos,
    disagreements,
    serverJsonChanges,
    dropped,
  };
}

function readServerJson(file: EvidenceFile, manifests: Manifest[], notes: string[]): ReturnType<typeof normalizeServerJson> | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(file.text);
  } catch {
    notes.push(`${file.path} is not valid JSON${file.truncated ? " (it was truncated)" : ""}; it was ignored.`);
    return undefined;
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) return undefined;
  const manifestVersion = manifests.find((m) => m.version)?.version;
  return normalizeServerJson(doc, manifestVersion ? { manifestVersion } : {});
}

function sameId(runtime: Runtime, a: string, b: string): boolean {
  if (runtime === "docker") {
    const n = (s: string) => s.toLowerCase().replace(/^docker\.io\//, "").replace(/^library\//, "").replace(/(@sha256:[a-f0-9]+|:[^/:]+)$/, "");
    return n(a) === n(b);
  }
  if (runtime === "remote") return a.replace(/\/+$/, "") === b.replace(/\/+$/, "");
  return a.toLowerCase() === b.toLowerCase();
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
  const exact = (v: string | undefined) => (v && !/^latest$/i.test(v) && !/^[~^<>=*]/.test(v) && /^v?\d+(\.\d+)*([-+][\w.]+)?$/.test(v) && !/^0\.0\.0$/.test(v) ? v.replace(/^v(?=\d)/, "") : undefined);
  const manifest = manifests.find((m) => m.name.toLowerCase() === best.identifier.toLowerCase());
  const fromManifest = exact(manifest?.version);
  const fromCmd = exact(best.version);
  // A manifest of the same package is the source of truth for its version; server.json and README pins may lag.
  if (fromManifest) return fromManifest;
  if (fromCmd) return fromCmd;
  if (best.runtime === "docker") {
    const other = exact(manifests[0]?.version) ?? exact(cargoVersion(evidence));
    if (other) {
      notes.push(`Image tag ${other} is the version of the repository's package manifest; check the image is published with that tag.`);
      return other;
    }
  }
  const release = exact(evidence.meta.latestRelease);
  if (release) {
    notes.push(`Version ${release} is the repository's latest release tag; check it matches the published package.`);
    return release;
  }
  return undefined;
}

function cargoVersion(evidence: Evidence): string | undefined {
  const cargo = evidence.files.find((f) => f.kind === "cargo.toml");
  if (!cargo) return undefined;
  const pkg = /\[package\][^[]*?\bversion\s*=\s*"([^"]+)"/.exec(cargo.text);
  return pkg?.[1];
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

/** An allowlist of the API hosts the source calls; never `bridge` (a reviewer adds egress deliberately). */
function networkOf(best: Candidate | undefined, env: EnvFinding[], evidence: Evidence, notes: string[]): Pick<NonNullable<RegistryFile["router"]>, "network"> {
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
  if (env.some((e) => e.secret) || hosts.size > 6) notes.push("The server likely needs network egress, but its hosts were not found; no network was proposed: add an allowlist in review.");
  return {};
}

function lineUrl(file: EvidenceFile, line: number): string {
  return file.url.startsWith("http") ? `${file.url}#L${line}` : file.url;
}

function order(r: Runtime): number {
  return ["npx", "uvx", "docker", "remote"].indexOf(r);
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

/** Compares dotted numeric versions (`2.0.0` > `1.0.1`); pre-release and build suffixes are ignored. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.replace(/^v/, "").split(/[-+]/)[0]!.split(".").map((x) => Number.parseInt(x, 10) || 0);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

/** A first argument that runs a setup, maintenance or help command of the package, not the server. */
const MAINTENANCE = /^(init|setup|install|uninstall|remove|login|logout|auth|config|configure|help|version|update|upgrade|doctor|--help|-h|--version|-V)$/;

/**
 * The arguments every README command for the package passes (in the first command's order): what a
 * server needs to start, where one snippet's extras (`--readOnly`, `--transport sse`, a model name)
 * are options of that example. Placeholders match each other (`/path/to/dir` and `/Users/me/dir`
 * are the same required path).
 */
function commonArguments(sets: string[][]): string[] {
  const units = (args: string[]) => {
    const out: { raw: string[]; key: string }[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      const next = args[i + 1];
      const pair = a.startsWith("--") && !a.includes("=") && next !== undefined && !next.startsWith("-") ? [a, next] : [a];
      if (pair.length === 2) i++;
      const key = pair.map((x) => (isPlaceholder(x) ? "<placeholder>" : x.replace(/=.*$/, (v) => (isPlaceholder(v.slice(1)) ? "=<placeholder>" : v)))).join(" ");
      out.push({ raw: pair, key });
    }
    return out;
  };
  const [first, ...others] = sets.map(units);
  if (!first) return [];
  const keys = others.map((o) => new Set(o.map((u) => u.key)));
  return first.filter((u) => keys.every((k) => k.has(u.key))).flatMap((u) => u.raw);
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
      // A secret passed as a flag (`--access-token sntrys_...`) is never written into the file: the value is the operator's.
      if (value !== undefined && (isPlaceholder(value) || looksSecret(name.replace(/^-+/, "").replace(/-/g, "_")))) {
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
