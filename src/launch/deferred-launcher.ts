/**
 * A launcher that needs something which may come up after the daemon does (the Docker engine).
 * It tries to create the real launcher at once; while that fails, every prepare or call tries
 * again (at most once per `retryMs`) and otherwise fails fast with the last reason and its hint.
 * So an engine started after the daemon is picked up by the next prepare retry, no restart needed.
 */
import type { RegistryServer } from "../registry/types.js";
import { LaunchError } from "./errors.js";
import type { AcquireOptions, KnownEra, Launcher, LauncherStats, Lease } from "./launcher.js";

export interface DeferredLauncherOptions {
  /** Creates the real launcher; a rejection (ideally with a `hint`) means "not yet". */
  create(): Promise<Launcher>;
  /** Shortest time between two creation attempts (default 2 s). */
  retryMs?: number;
  /** Called once, when a creation attempt after a failed one succeeds. */
  onRecovered?(): void;
  now?: () => number;
}

const EMPTY_STATS: LauncherStats = { containers: 0, maxContainers: 0, queued: 0, started: 0, poolHits: 0, poolMisses: 0, servers: [] };

export class DeferredLauncher implements Launcher {
  #launcher: Launcher | undefined;
  #attempt: Promise<Launcher> | undefined;
  #lastError: LaunchError | undefined;
  #lastAttemptAt = -Infinity;
  #closed = false;
  /** Eras adopted before the real launcher exists, handed to it when it does. */
  readonly #eras = new Map<string, { server: RegistryServer; era: KnownEra }>();

  constructor(private readonly options: DeferredLauncherOptions) {}

  /** Makes the first attempt; resolves either way (`available` tells which). */
  async start(): Promise<this> {
    await this.#get().catch(() => undefined);
    return this;
  }

  /** Whether the real launcher exists. */
  get available(): boolean {
    return this.#launcher !== undefined;
  }

  /** Why it does not (the last attempt's error), while it does not. */
  get unavailableReason(): LaunchError | undefined {
    return this.#launcher ? undefined : this.#lastError;
  }

  async prepare(server: RegistryServer, onProgress?: (message: string) => void): Promise<void> {
    await (await this.#get()).prepare(server, onProgress);
  }

  async acquire(server: RegistryServer, opts: AcquireOptions): Promise<Lease> {
    return (await this.#get()).acquire(server, opts);
  }

  eraOf(server: RegistryServer): KnownEra | undefined {
    return this.#launcher?.eraOf?.(server);
  }

  adoptEra(server: RegistryServer, era: KnownEra): void {
    if (this.#launcher) this.#launcher.adoptEra?.(server, era);
    else this.#eras.set(server.hash, { server, era });
  }

  async endSession(sessionId: string): Promise<void> {
    await this.#launcher?.endSession(sessionId);
  }

  async retire(server: RegistryServer): Promise<void> {
    await this.#launcher?.retire(server);
  }

  stats(): LauncherStats {
    return this.#launcher?.stats() ?? EMPTY_STATS;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const pending = await this.#attempt?.catch(() => undefined);
    await (this.#launcher ?? pending)?.close();
  }

  #get(): Promise<Launcher> {
    if (this.#launcher) return Promise.resolve(this.#launcher);
    if (this.#attempt) return this.#attempt;
    const now = this.options.now?.() ?? Date.now();
    if (this.#lastError && now - this.#lastAttemptAt < (this.options.retryMs ?? 2_000)) return Promise.reject(this.#lastError);
    this.#lastAttemptAt = now;
    const failedBefore = this.#lastError !== undefined;
    this.#attempt = this.options.create().then(
      async (launcher) => {
        this.#attempt = undefined;
        if (this.#closed) {
          await launcher.close();
          throw new LaunchError("LAUNCHER_CLOSED", "the launcher closed while it was being created", "The daemon is shutting down.");
        }
        this.#launcher = launcher;
        this.#lastError = undefined;
        for (const { server, era } of this.#eras.values()) launcher.adoptEra?.(server, era);
        this.#eras.clear();
        if (failedBefore) this.options.onRecovered?.();
        return launcher;
      },
      (error: Error & { hint?: string }) => {
        this.#attempt = undefined;
        this.#lastError =
          error instanceof LaunchError ? error : new LaunchError("ENGINE_UNAVAILABLE", error.message, error.hint ?? "Start the engine; the next prepare retry picks it up.", { cause: error });
        throw this.#lastError;
      },
    );
    return this.#attempt;
  }
}
