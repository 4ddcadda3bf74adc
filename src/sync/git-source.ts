/**
 * A registry in a git remote: cloned into the data dir, fetched on an interval (and on webhook
 * pushes), and checked out at exactly the fetched revision. A force-push is followed like any
 * other move of the branch.
 */
import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { simpleGit } from "simple-git";
import { SyncError, type RegistrySource, type SourceRevision } from "./registry-source.js";
import { redactUrl } from "../secrets/secret-scrubber.js";

export interface GitSourceOptions {
  url: string;
  branch: string;
  /** Where the clone lives, e.g. `<data dir>/registry`. */
  dir: string;
  /** Folder of the registry inside the repository ("" or "registry"). */
  subdir?: string;
  pollIntervalMs?: number;
  /** Longest a single git command may take. */
  timeoutMs?: number;
}

export class GitSource implements RegistrySource {
  readonly description: string;
  readonly pollIntervalMs: number;
  readonly #options: GitSourceOptions;

  constructor(options: GitSourceOptions) {
    this.#options = options;
    this.pollIntervalMs = options.pollIntervalMs ?? 30_000;
    this.description = `git ${redactUrl(options.url)} (${options.branch})`;
  }

  async sync(): Promise<SourceRevision> {
    const { url, branch, dir, subdir = "", timeoutMs = 60_000 } = this.#options;
    const git = () => simpleGit({ baseDir: dir, timeout: { block: timeoutMs } });
    try {
      if (!existsSync(path.join(dir, ".git"))) {
        await rm(dir, { recursive: true, force: true });
        await mkdir(dir, { recursive: true });
        await git().init().addRemote("origin", url);
      } else {
        await git().remote(["set-url", "origin", url]);
      }
      // `+` accepts non-fast-forward moves of the branch: a force-push is followed, not refused.
      await git().fetch(["--no-tags", "--prune", "origin", `+refs/heads/${branch}:refs/remotes/origin/${branch}`]);
      const revision = (await git().revparse([`refs/remotes/origin/${branch}`])).trim();
      await git().raw(["checkout", "--force", "--detach", revision]);
      await git().clean("f", ["-d", "-x"]);
      return { revision, dir: path.join(dir, subdir) };
    } catch (err) {
      throw new SyncError(
        "FETCH_FAILED",
        `cannot fetch ${redactUrl(url)} (${branch}): ${redactUrl(firstLine((err as Error).message))}`,
        "Check the URL, the branch name and the credentials; the last applied registry keeps serving meanwhile.",
      );
    }
  }

  watch(): () => Promise<void> {
    // A git remote does not tell; the reconciler polls it every pollIntervalMs, and webhooks ask early.
    return async () => {};
  }
}

/** `https://user:token@host/x` -> `https://***@host/x`: credentials never reach logs or status. */
function firstLine(text: string): string {
  return text.split("\n").find((l) => l.trim()) ?? text;
}
