/**
 * Loads a registry directory: every `servers/*.yaml` file, guarded against hostile input
 * (huge, binary, empty, symlinks leaving the registry), parsed and validated, then checked
 * across files (unique names and prefixes). One bad file never hides the good ones.
 */
import { lstat, readdir, readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import type { AccessLoad } from "./access-file.js";
import { ACCESS_FILE_NAMES, loadAccessFile } from "./access-file.js";
import { formatPath } from "./diagnostic.js";
import type { Diagnostic } from "./diagnostic.js";
import { prefixOf } from "./file-rules.js";
import type { ParsedFile } from "./parse-registry-file.js";
import { parseRegistryFile } from "./parse-registry-file.js";
import { hashReferencedFiles, newEntryHash } from "./referenced-files.js";
import type { RegistryServer } from "./types.js";
import type { OperatorPolicy } from "./policy.js";
import { DEFAULT_POLICY, policyRules } from "./policy.js";
import type { SecretGrants } from "./store-lookups.js";
import { grantRules } from "./store-lookups.js";

/** Registry files larger than this are refused unread. */
export const MAX_FILE_BYTES = 1024 * 1024;

export interface FileResult {
  /** Path relative to the registry root, `/`-separated, e.g. `servers/memory.yaml`. */
  file: string;
  /** The prefix the file stands for (from `router.prefix`, else its name). */
  prefix: string;
  /** Present when the file is valid. */
  server?: RegistryServer;
  diagnostics: Diagnostic[];
}

export interface RegistryLoad {
  root: string;
  files: FileResult[];
  /** The valid servers, in file order. */
  servers: RegistryServer[];
  /** `access.yaml` at the root (who may use what); undefined when there is none. */
  access?: AccessLoad;
  /** Every file's problems, the access file's included. */
  diagnostics: Diagnostic[];
}

export interface LoadOptions {
  /** How diagnostics name files: this prefix joined with the relative path. Default: root relative to cwd. */
  displayRoot?: string;
  /**
   * Parse results of earlier loads, by file: a follower of the registry passes the same cache to
   * every load, so a reload parses only the files whose text changed (parsing allocates a syntax
   * tree per file; a hundred of them per reload grow a long-running daemon's heap for good).
   */
  cache?: ParseCache;
  /** What privileged settings files may use (default: DEFAULT_POLICY, the strictest). */
  policy?: OperatorPolicy;
  /** The daemon's secret store: a file whose server needs a name it lacks is refused. Unchecked when absent (`validate`). */
  grants?: SecretGrants;
}

/** Valid files' parse results, by absolute path, with the text they came from. */
export type ParseCache = Map<string, { text: string; shown: string; parsed: ParsedFile }>;

/** The folder holding server files: `<root>/servers` when it exists, else `root` itself. */
export async function serversDir(root: string): Promise<string> {
  const candidate = path.join(root, "servers");
  try {
    if ((await stat(candidate)).isDirectory()) return candidate;
  } catch {
    // no servers/ folder: the root holds the files
  }
  return root;
}

export async function loadRegistry(root: string, options: LoadOptions = {}): Promise<RegistryLoad> {
  const absRoot = path.resolve(root);
  const relRoot = path.relative(process.cwd(), absRoot);
  const displayRoot = options.displayRoot ?? (relRoot === "" ? "." : relRoot.startsWith("..") ? absRoot : relRoot);
  const display = (rel: string) => path.posix.join(displayRoot.split(path.sep).join("/"), rel);

  let realRoot: string;
  try {
    realRoot = await realpath(absRoot);
  } catch (err) {
    throw Object.assign(new Error(`registry directory ${root} cannot be read: ${(err as Error).message}`), {
      code: "REGISTRY_NOT_FOUND",
      hint: "Pass the folder that holds `servers/*.yaml`, e.g. `mcp-router validate registry`.",
    });
  }
  const dir = await serversDir(absRoot);
  // A registry without servers/ keeps its server files at the root, beside the access policy.
  const names = (await readdir(dir)).filter((n) => /\.ya?ml$/i.test(n) && !(dir === absRoot && (ACCESS_FILE_NAMES as readonly string[]).includes(n))).sort();
  const files = await Promise.all(
    names.map((name) => {
      const rel = path.relative(absRoot, path.join(dir, name)).split(path.sep).join("/");
      return loadFile(path.join(dir, name), rel, display(rel), realRoot, options);
    }),
  );
  if (options.cache) {
    const present = new Set(names.map((name) => path.join(dir, name)));
    for (const key of options.cache.keys()) if (!present.has(key)) options.cache.delete(key);
  }
  crossFileRules(files, display);
  const servers = files.flatMap((f) => (f.server ? [f.server] : []));
  const access = await loadAccessFile(absRoot, display);
  return { root: absRoot, files, servers, ...(access ? { access } : {}), diagnostics: [...(access?.diagnostics ?? []), ...files.flatMap((f) => f.diagnostics)] };
}

/** Reads and validates one file, refusing what a registry file can never be. */
export async function loadFile(absPath: string, rel: string, shown: string, realRoot: string, options: Pick<LoadOptions, "cache" | "policy" | "grants"> = {}): Promise<FileResult> {
  const cache = options.cache;
  const fallbackPrefix = path.posix.basename(rel).replace(/\.ya?ml$/i, "");
  const refuse = (rule: string, message: string, hint: string): FileResult => ({
    file: rel,
    prefix: fallbackPrefix,
    diagnostics: [{ file: shown, line: 1, column: 1, path: "", rule, message, hint }],
  });

  let info;
  try {
    info = await lstat(absPath);
    if (info.isSymbolicLink()) {
      const target = await realpath(absPath);
      if (target !== realRoot && !target.startsWith(realRoot + path.sep)) {
        return refuse("file.symlink-escape", "is a symbolic link that leaves the registry", "Registry files must live inside the registry repository; copy the file in instead of linking to it.");
      }
      info = await stat(absPath);
    }
  } catch (err) {
    return refuse("file.unreadable", `cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, "Check that the file exists and is readable; a dangling link points nowhere.");
  }
  if (!info.isFile()) return refuse("file.not-a-file", "is not a regular file", "Only `.yaml` files belong in the servers folder.");
  if (info.size > MAX_FILE_BYTES) {
    return refuse("file.too-large", `is ${(info.size / 1024 / 1024).toFixed(1)} MiB; registry files are limited to 1 MiB`, "A server file is a few kilobytes; move large tool catalogs out or trim them.");
  }
  const bytes = await readFile(absPath);
  if (bytes.includes(0)) return refuse("file.binary", "is a binary file, not YAML text", "Registry files are UTF-8 YAML text.");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return refuse("file.encoding", "is not valid UTF-8 text", "Save the file as UTF-8.");
  }
  const hit = cache?.get(absPath);
  const parsed = hit && hit.text === text && hit.shown === shown ? hit.parsed : parseRegistryFile(shown, text, rel);
  if (!parsed.entry) {
    cache?.delete(absPath);
    return { file: rel, prefix: fallbackPrefix, diagnostics: parsed.diagnostics };
  }
  if (cache && !hit) cache.set(absPath, { text, shown, parsed });
  // Each load hands out its own copy: nothing a caller does to an entry reaches the cache.
  const entry = cache ? structuredClone(parsed.entry) : parsed.entry;
  const prefix = prefixOf(entry, rel);
  // The operator's policy and grants can change without the file changing: checked on every load, never cached.
  const refused = [...policyRules(entry, options.policy ?? DEFAULT_POLICY), ...(options.grants ? grantRules(entry, options.grants) : [])];
  if (refused.length) {
    const diagnostics = refused.map((p) => ({ file: shown, ...parsed.locate(p.segments), path: formatPath(p.segments), rule: p.rule, message: p.message, ...(p.hint ? { hint: p.hint } : {}) }));
    return { file: rel, prefix, diagnostics };
  }
  const hash = newEntryHash(entry);
  const problems = await hashReferencedFiles(entry, realRoot, hash);
  if (problems.length) {
    const diagnostics = problems.map((p) => ({ file: shown, ...parsed.locate(p.path), path: formatPath(p.path), rule: p.rule, message: p.message, hint: p.hint }));
    return { file: rel, prefix, diagnostics };
  }
  const server: RegistryServer = { prefix, name: entry.name, file: rel, hash: hash.digest("hex"), root: realRoot, entry };
  const result: FileResult = { file: rel, prefix, server, diagnostics: [] };
  locators.set(result, parsed.locate);
  return result;
}

/** Where each valid file's fields are, for errors found later across files. */
const locators = new WeakMap<FileResult, (segments: readonly (string | number)[]) => { line: number; column: number }>();

/** Unique `name` and unique prefix across files. Every file in a clash gets the error. */
function crossFileRules(files: FileResult[], display: (rel: string) => string): void {
  const clash = (key: (f: FileResult) => string | undefined, rule: string, what: string, segments: (string | number)[], hint: string) => {
    const byKey = new Map<string, FileResult[]>();
    for (const f of files) {
      const k = key(f);
      if (k !== undefined) byKey.set(k, [...(byKey.get(k) ?? []), f]);
    }
    for (const [k, group] of byKey) {
      if (group.length < 2) continue;
      for (const f of group) {
        const others = group.filter((o) => o !== f).map((o) => o.file).join(", ");
        const pos = locators.get(f)?.(segments) ?? { line: 1, column: 1 };
        f.diagnostics.push({ file: display(f.file), ...pos, path: segments.join("."), rule, message: `${what} "${k}" is also used by ${others}`, hint });
      }
    }
  };
  clash((f) => f.server?.name, "name.duplicate", "name", ["name"], "Each server is declared once; remove the duplicate file or give it its own name.");
  clash((f) => f.server?.prefix, "prefix.duplicate", "prefix", ["router", "prefix"], "Prefixes must be unique: tools are named `<prefix>__<tool>`.");
  for (const f of files) {
    if (f.diagnostics.length && f.server) delete f.server;
  }
}
