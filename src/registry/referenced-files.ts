/**
 * Files a registry entry refers to inside the registry repo: the build context of
 * `router.build` and a local `router.openapi.spec`. They are part of what a server version
 * is, so their bytes go into its hash (an edited Dockerfile means a new version), and a
 * reference that is missing or leaves the repo is a located error, not a failure at launch.
 */
import { createHash } from "node:crypto";
import type { Hash } from "node:crypto";
import { readdir, readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import type { RegistryFile } from "./types.js";

/** A build context larger than this is refused (it is sent to the engine on every build). */
const MAX_CONTEXT_BYTES = 64 * 1024 * 1024;

export interface ReferenceProblem {
  /** Where the reference is in the entry, e.g. `["router", "build", "dockerfile"]`. */
  path: (string | number)[];
  rule: string;
  message: string;
  hint: string;
}

export function isUrl(spec: string): boolean {
  return /^https?:\/\//i.test(spec);
}

/** Adds the referenced files to `hash`; returns the problems found (none means every reference resolved). */
export async function hashReferencedFiles(entry: RegistryFile, realRoot: string, hash: Hash): Promise<ReferenceProblem[]> {
  const problems: ReferenceProblem[] = [];
  const resolve = async (rel: string, at: (string | number)[], kind: "file" | "dir"): Promise<string | undefined> => {
    const abs = path.resolve(realRoot, rel);
    let real: string;
    try {
      real = await realpath(abs);
    } catch {
      problems.push({ path: at, rule: "file.reference-missing", message: `refers to ${rel}, which does not exist in the registry repo`, hint: "Paths are relative to the registry root (the folder that holds `servers/`); commit the file with the server file." });
      return undefined;
    }
    if (real !== realRoot && !real.startsWith(realRoot + path.sep)) {
      problems.push({ path: at, rule: "file.reference-escape", message: `refers to ${rel}, which is outside the registry repo`, hint: "Everything a server runs must be reviewed in the registry repo; copy the file in." });
      return undefined;
    }
    const info = await stat(real);
    if (kind === "file" ? !info.isFile() : !info.isDirectory()) {
      problems.push({ path: at, rule: "file.reference-missing", message: `refers to ${rel}, which is not a ${kind === "file" ? "file" : "folder"}`, hint: `Point it at a ${kind === "file" ? "file" : "folder"} in the registry repo.` });
      return undefined;
    }
    return real;
  };

  const build = entry.router?.build;
  if (build) {
    const dockerfile = await resolve(build.dockerfile, ["router", "build", "dockerfile"], "file");
    const contextRel = build.context ?? path.posix.dirname(build.dockerfile);
    const context = build.context !== undefined || dockerfile ? await resolve(contextRel, ["router", "build", build.context === undefined ? "dockerfile" : "context"], "dir") : undefined;
    if (dockerfile && context) {
      hash.update(`\0build\0${build.dockerfile}\0`).update(await readFile(dockerfile));
      let total = 0;
      for (const file of await listFiles(context)) {
        const bytes = await readFile(path.join(context, file));
        total += bytes.length;
        hash.update(`\0${file}\0${bytes.length}\0`).update(bytes);
      }
      if (total > MAX_CONTEXT_BYTES) {
        problems.push({ path: ["router", "build"], rule: "file.context-too-large", message: `has a build context of ${(total / 1024 / 1024).toFixed(1)} MiB; the limit is 64 MiB`, hint: "Set `router.build.context` to a folder holding only what the image needs." });
      }
    }
  }
  const spec = entry.router?.openapi?.spec;
  if (spec !== undefined && !isUrl(spec)) {
    const file = await resolve(spec, ["router", "openapi", "spec"], "file");
    if (file) hash.update(`\0openapi\0${spec}\0`).update(await readFile(file));
  }
  return problems;
}

/** Every regular file under `dir`, relative and `/`-separated, sorted (so the hash is stable). */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join("/"))
    .sort();
}

/** sha256 over a document and the files it refers to. */
export function newEntryHash(entry: RegistryFile): Hash {
  return createHash("sha256").update(JSON.stringify(entry));
}
