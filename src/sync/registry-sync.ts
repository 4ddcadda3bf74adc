/**
 * Follows the registry for the daemon: picks the source (a watched directory, or a git remote
 * polled and fetched on demand) and runs the reconciler over it. HTTP routes for its status and
 * push webhooks live with the other routes (src/transports, wired in src/daemon).
 */
import path from "node:path";
import type { Logger } from "pino";
import type { LoadOptions, ParseCache } from "../registry/loader.js";
import { loadRegistry } from "../registry/loader.js";
import type { AccessFile } from "../registry/access-file.js";
import type { RegistryServer } from "../registry/types.js";
import { DirectorySource } from "./directory-source.js";
import { GitSource } from "./git-source.js";
import { Reconciler, type ReconcilerDeps, type SyncStatus } from "./reconciler.js";

export interface RegistrySyncOptions extends Pick<ReconcilerDeps, "prepareBudgetMs" | "prepareRetryMs" | "settleBudgetMs"> {
  /** Local registry folder (used when no git URL is given). */
  registry: string;
  git?: string;
  branch: string;
  /** Folder of the registry inside the git repository (default: the root). */
  gitSubdir?: string;
  pollSeconds: number;
  dataDir: string;
  logger: Logger;
  /** Makes a changed server version ready: images, tool discovery. */
  prepare(server: RegistryServer): Promise<void>;
  /** Builds and swaps in the routing table; `revision` is the registry revision it comes from. */
  /** `access`: the registry's access policy (`access.yaml`), undefined when it has none. */
  apply(servers: readonly RegistryServer[], revision: string, access: AccessFile | undefined): Promise<void>;
  /** A replaced or removed version: its containers drain. */
  retire(server: RegistryServer): Promise<void>;
  /** The operator policy and secret grants every file is checked against (the loader's defaults otherwise). */
  checks?: Pick<LoadOptions, "policy" | "grants">;
}

export interface RegistrySync {
  readonly reconciler: Reconciler;
  /** Settles after the first reconcile. */
  readonly started: Promise<void>;
  status(): SyncStatus;
  /** Called with the new status after every reconcile that applied a revision or failed (metrics). */
  onStatus(listener: (status: SyncStatus) => void): () => void;
  stop(): Promise<void>;
}

export function startRegistrySync(options: RegistrySyncOptions): RegistrySync {
  const logger = options.logger.child({ component: "sync" });
  const source = options.git
    ? new GitSource({
        url: options.git,
        branch: options.branch,
        dir: path.join(options.dataDir, "registry-repo"),
        ...(options.gitSubdir ? { subdir: options.gitSubdir } : {}),
        pollIntervalMs: options.pollSeconds * 1000,
      })
    : new DirectorySource({ dir: options.registry });
  const parseCache: ParseCache = new Map();
  const reconciler = new Reconciler({
    source,
    // One parse cache for the life of the follower: a reload parses only the files that changed.
    load: (dir) => loadRegistry(dir, { cache: parseCache, ...options.checks }),
    prepare: options.prepare,
    apply: (servers, revision, access) => options.apply(servers, revision, access),
    retire: options.retire,
    logger,
    ...(options.prepareBudgetMs !== undefined ? { prepareBudgetMs: options.prepareBudgetMs } : {}),
    ...(options.prepareRetryMs !== undefined ? { prepareRetryMs: options.prepareRetryMs } : {}),
    ...(options.settleBudgetMs !== undefined ? { settleBudgetMs: options.settleBudgetMs } : {}),
  });
  logger.info({ source: source.description }, "following the registry");
  const started = reconciler.start().catch((error: Error) => logger.error({ err: error.message }, "the first reconcile failed"));
  return { reconciler, started, status: () => reconciler.status(), onStatus: (listener) => reconciler.onStatus(listener), stop: () => reconciler.stop() };
}
