/**
 * Follows the registry for the daemon: picks the source (a watched directory, or a git remote
 * polled and pushed to by webhooks), runs the reconciler, and offers `/status` and
 * `/hooks/github` for the HTTP server.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import type { Logger } from "pino";
import { loadRegistry } from "../registry/loader.js";
import type { RegistryServer } from "../registry/types.js";
import { DirectorySource } from "./directory-source.js";
import { GitSource } from "./git-source.js";
import { createGithubWebhookHandler } from "./github-webhook.js";
import { Reconciler, type SyncStatus } from "./reconciler.js";

export interface RegistrySyncOptions {
  /** Local registry folder (used when no git URL is given). */
  registry: string;
  git?: string;
  branch: string;
  /** Folder of the registry inside the git repository (default: the root). */
  gitSubdir?: string;
  pollSeconds: number;
  webhookSecret?: string;
  dataDir: string;
  logger: Logger;
  /** Makes a changed server version ready: images, tool discovery. */
  prepare(server: RegistryServer): Promise<void>;
  /** Builds and swaps in the routing table; `revision` is the registry revision it comes from. */
  apply(servers: readonly RegistryServer[], revision: string): Promise<void>;
  /** A replaced or removed version: its containers drain. */
  retire(server: RegistryServer): Promise<void>;
}

export interface Route {
  method: string;
  public?: boolean;
  handle(req: IncomingMessage, res: ServerResponse): Promise<void> | void;
}

export interface RegistrySync {
  readonly reconciler: Reconciler;
  /** Settles after the first reconcile (the daemon serves `/readyz` 503 until a table is applied). */
  readonly started: Promise<void>;
  status(): SyncStatus;
  /** Called with the new status after every reconcile that applied a revision or failed (metrics). */
  onStatus(listener: (status: SyncStatus) => void): () => void;
  routes: Record<string, Route>;
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
  const reconciler = new Reconciler({
    source,
    load: (dir) => loadRegistry(dir),
    prepare: options.prepare,
    apply: (servers, revision) => options.apply(servers, revision),
    retire: options.retire,
    logger,
  });
  const routes: Record<string, Route> = {
    "/status": {
      method: "GET",
      handle: (_req, res) => {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(reconciler.status(), null, 2));
      },
    },
  };
  if (options.webhookSecret) {
    routes["/hooks/github"] = {
      method: "POST",
      public: true,
      handle: createGithubWebhookHandler({
        secret: options.webhookSecret,
        branch: options.branch,
        onPush: (revision) => {
          logger.info({ revision }, "push webhook: fetching now");
          void reconciler.request("webhook");
        },
      }),
    };
  }
  logger.info({ source: source.description }, "following the registry");
  const started = reconciler.start().catch((error: Error) => logger.error({ err: error.message }, "the first reconcile failed"));
  return { reconciler, started, status: () => reconciler.status(), onStatus: (listener) => reconciler.onStatus(listener), routes, stop: () => reconciler.stop() };
}
