/**
 * A RepoReader over a local checkout: the same evidence as from GitHub, read from disk.
 */
import { open, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { ProposeError } from "./errors.js";
import type { RepoMeta, RepoReader, TreeEntry } from "./evidence.js";

const SKIP = new Set(["node_modules", ".git", "dist", "build", ".venv", "venv", "__pycache__", "target"]);
const MAX_FILES = 5000;

export interface LocalRepoOptions {
  /** `owner/repo` to name the server after (default: from package metadata or the folder name). */
  repository?: string;
}

export function localRepoReader(dir: string, options: LocalRepoOptions = {}): RepoReader {
  const root = path.resolve(dir);
  let listed: TreeEntry[] | undefined;
  const reader: RepoReader = {
    async meta(): Promise<RepoMeta> {
      const s = await stat(root).catch(() => undefined);
      if (!s?.isDirectory()) {
        throw new ProposeError("PROPOSE_SOURCE_NOT_FOUND", `${root} is not a folder`, "Give the path of a checkout of the server's repository.");
      }
      const [owner, repo] = (options.repository ?? `local/${path.basename(root)}`).split("/");
      const repoName = repo ?? path.basename(root);
      return {
        owner: owner ?? "local",
        repo: repoName,
        defaultBranch: "main",
        ref: "main",
        htmlUrl: options.repository ? `https://github.com/${options.repository}` : pathToFileURL(root).href,
      };
    },
    async list(): Promise<TreeEntry[]> {
      if (listed) return listed;
      const out: TreeEntry[] = [];
      const walk = async (rel: string, depth: number): Promise<void> => {
        if (depth > 8 || out.length >= MAX_FILES) return;
        const entries = await readdir(path.join(root, rel), { withFileTypes: true }).catch(() => []);
        entries.sort((a, b) => a.name.localeCompare(b.name));
        for (const e of entries) {
          const p = rel ? `${rel}/${e.name}` : e.name;
          if (e.isDirectory()) {
            if (!SKIP.has(e.name)) await walk(p, depth + 1);
          } else if (e.isFile()) {
            out.push({ path: p, size: (await stat(path.join(root, p))).size });
          }
        }
      };
      await walk("", 0);
      listed = out;
      return out;
    },
    async read(rel: string, maxBytes: number): Promise<string | undefined> {
      const full = path.resolve(root, rel);
      if (!full.startsWith(root + path.sep)) return undefined;
      const handle = await open(full, "r").catch(() => undefined);
      if (!handle) return undefined;
      try {
        const buf = Buffer.alloc(maxBytes);
        const { bytesRead } = await handle.read(buf, 0, maxBytes, 0);
        return buf.subarray(0, bytesRead).toString("utf8");
      } finally {
        await handle.close();
      }
    },
    link(rel: string): string {
      return options.repository ? `https://github.com/${options.repository}/blob/HEAD/${rel}` : rel;
    },
  };
  return reader;
}
