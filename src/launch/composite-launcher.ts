/**
 * One Launcher for every kind of server: each call goes to the launcher of the server's kind
 * (`launcherKind`). The gateway, sync and discovery code against it as against any Launcher.
 */
import type { RegistryServer } from "../registry/types.js";
import { LaunchError } from "./errors.js";
import type { AcquireOptions, KnownEra, Launcher, LauncherStats, Lease } from "./launcher.js";

/** `openapi`: REST operations as tools; `remote`: proxied hosted endpoint; `docker`: packages and builds in containers. */
export type LauncherKind = "docker" | "remote" | "openapi";

/** Which launcher serves a server: `router.openapi`, else remotes without packages or build, else containers. */
export function launcherKind(server: RegistryServer): LauncherKind {
  const entry = server.entry;
  if (entry.router?.openapi) return "openapi";
  if (!entry.packages?.length && !entry.router?.build && (entry.remotes?.length ?? 0) > 0) return "remote";
  return "docker";
}

export interface CompositeLauncherOptions {
  docker?: Launcher;
  remote?: Launcher;
  openapi?: Launcher;
}

const MISSING_HINT: Record<LauncherKind, string> = {
  docker: "This gateway runs without a Docker engine: start one (Debian: `bash .ci/docker-up.sh`; a running daemon picks it up), or disable the server (router.enabled: false).",
  remote: "This gateway was built without the remote launcher; use a build that proxies `remotes`, or disable the server (router.enabled: false).",
  openapi: "This gateway was built without the OpenAPI launcher; use a build that serves `router.openapi`, or disable the server (router.enabled: false).",
};

const KIND_TEXT: Record<LauncherKind, string> = {
  docker: "runs in a container",
  remote: "is a remote server (remotes, no packages)",
  openapi: "is an OpenAPI server (router.openapi)",
};

export class CompositeLauncher implements Launcher {
  private readonly byKind: Readonly<Partial<Record<LauncherKind, Launcher>>>;

  constructor(options: CompositeLauncherOptions) {
    this.byKind = { ...options };
  }

  /** The launcher that serves this server; throws PREPARE_FAILED (saying what is missing) if there is none. */
  launcherFor(server: RegistryServer): Launcher {
    const kind = launcherKind(server);
    const launcher = this.byKind[kind];
    if (!launcher) {
      throw new LaunchError("PREPARE_FAILED", `server ${server.prefix} ${KIND_TEXT[kind]}, and this gateway has no ${kind} launcher`, MISSING_HINT[kind], { data: { kind } });
    }
    return launcher;
  }

  async prepare(server: RegistryServer, onProgress?: (message: string) => void): Promise<void> {
    await this.launcherFor(server).prepare(server, onProgress);
  }

  async acquire(server: RegistryServer, opts: AcquireOptions): Promise<Lease> {
    return this.launcherFor(server).acquire(server, opts);
  }

  eraOf(server: RegistryServer): KnownEra | undefined {
    return this.byKind[launcherKind(server)]?.eraOf?.(server);
  }

  adoptEra(server: RegistryServer, era: KnownEra): void {
    this.byKind[launcherKind(server)]?.adoptEra?.(server, era);
  }

  async endSession(sessionId: string): Promise<void> {
    await settleAll(this.all().map((l) => l.endSession(sessionId)));
  }

  async retire(server: RegistryServer): Promise<void> {
    await this.byKind[launcherKind(server)]?.retire(server);
  }

  stats(): LauncherStats {
    const parts = this.all().map((l) => l.stats());
    const sum = (pick: (s: LauncherStats) => number): number => parts.reduce((n, s) => n + pick(s), 0);
    return {
      containers: sum((s) => s.containers),
      maxContainers: sum((s) => s.maxContainers),
      queued: sum((s) => s.queued),
      started: sum((s) => s.started),
      poolHits: sum((s) => s.poolHits),
      poolMisses: sum((s) => s.poolMisses),
      servers: parts.flatMap((s) => s.servers),
    };
  }

  async close(): Promise<void> {
    await settleAll(this.all().map((l) => l.close()));
  }

  private all(): Launcher[] {
    return [...new Set(Object.values(this.byKind).filter((l): l is Launcher => l !== undefined))];
  }
}

/** Waits for every promise; rethrows the first failure after all settled. */
async function settleAll(promises: Array<Promise<unknown>>): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
}
