/**
 * Turns the newest revision of the registry into the serving table, as ordered steps:
 * fetch -> load + validate -> prepare changed servers -> build the table and swap it in
 * (the `apply` collaborator, which also notifies clients) -> retire replaced versions -> record status.
 *
 * A server whose prepare outlasts the prepare budget (an image build takes minutes) does not hold
 * the others back: the table is applied without it (or with its last good version), it is marked
 * `Preparing`, and the reconcile that follows its prepare applies it.
 *
 * A server whose prepare failed is tried again with backoff (5 s doubling to 1 min by default), so
 * a cause that goes away (a Docker engine started after the daemon, a mirror back online) needs
 * no restart and no new commit. A failure is logged at warn once; identical repeats at debug.
 *
 * `ready` says a table is applied; `settled` (what /readyz reports) says more: every server has
 * finished its first prepare attempt, live or failed, or the settle budget (2 min by default)
 * has passed since the first table was applied. Once settled, it stays settled.
 *
 * One reconcile runs at a time and requests arriving meanwhile coalesce into one more. The last
 * good version of each server keeps serving when its file breaks (marked stale); a revision
 * that cannot be fetched or read leaves the whole table as it was.
 */
import type { Logger } from "pino";
import { formatDiagnostic } from "../registry/diagnostic.js";
import type { AccessFile } from "../registry/access-file.js";
import type { RegistryLoad } from "../registry/loader.js";
import type { RegistryServer } from "../registry/types.js";
import type { RegistrySource } from "./registry-source.js";

export type ServerReason = "Applied" | "ValidationFailed" | "Preparing" | "PrepareFailed" | "Disabled";

export interface ServerCondition {
  prefix: string;
  file: string;
  /** Served right now (possibly an older version: see `stale`). */
  serving: boolean;
  /** The file at the newest revision could not be applied; an older version serves. */
  stale: boolean;
  reason: ServerReason;
  message: string;
  /** Revision the serving version came from. */
  appliedRevision?: string;
  /** sha256 of the serving version. */
  hash?: string;
  since: string;
}

export interface SyncStatus {
  source: string;
  /** A table has been applied. */
  ready: boolean;
  /** Ready, and every server finished its first prepare attempt (or the settle budget passed). */
  settled: boolean;
  lastAttemptedRevision?: string;
  lastAppliedRevision?: string;
  lastAttemptAt?: string;
  lastAppliedAt?: string;
  lastError?: { reason: string; message: string; at: string; revision?: string };
  reconciles: number;
  failures: number;
  servers: ServerCondition[];
  /** The access policy (`access.yaml`); absent when the registry has none (everyone may use everything). */
  access?: AccessCondition;
}

export interface AccessCondition {
  file: string;
  /** `ValidationFailed`: the newest version is broken; the last good one serves (`stale`), or, without one, nobody is granted anything. */
  reason: "Applied" | "ValidationFailed";
  stale: boolean;
  message: string;
  since: string;
}

/** What a broken access file that never had a good version grants: nothing (failing open would widen access). */
const DENY_ALL: AccessFile = Object.freeze({ grants: [] }) as unknown as AccessFile;

export interface ReconcilerDeps {
  source: RegistrySource;
  load(dir: string): Promise<RegistryLoad>;
  /** Makes a new or changed server version ready (images, tool discovery). */
  prepare(server: RegistryServer): Promise<void>;
  /** Builds the routing table from these servers and swaps it in with the access policy (undefined: none, everyone may use everything); notifies connected clients. */
  apply(servers: readonly RegistryServer[], revision: string, access: AccessFile | undefined): Promise<void> | void;
  /** A server version left the table: its containers end once their calls finish. */
  retire?(server: RegistryServer): Promise<void> | void;
  logger: Logger;
  now?: () => Date;
  /** Longest wait between polls after repeated fetch failures. */
  maxBackoffMs?: number;
  /** How long a reconcile waits for prepares before applying the servers that are ready (default 20 s). */
  prepareBudgetMs?: number;
  /** First wait before a failed prepare is tried again; doubles per attempt (default 5 s). */
  prepareRetryMs?: number;
  /** Longest wait between prepare retries (default 60 s). */
  maxPrepareRetryMs?: number;
  /** This long after the first applied table the daemon counts as settled even if prepares still run (default 120 s). */
  settleBudgetMs?: number;
}

interface Applied {
  server: RegistryServer;
  revision: string;
}

export class Reconciler {
  readonly #deps: ReconcilerDeps;
  /** The serving version of each server, by prefix. */
  #applied = new Map<string, Applied>();
  #conditions = new Map<string, ServerCondition>();
  /** The access policy serving now (undefined: no file), and its condition. */
  #access: AccessFile | undefined;
  #accessCondition: AccessCondition | undefined;
  #status: Omit<SyncStatus, "servers" | "source">;
  #running: Promise<void> | undefined;
  #again = false;
  #reloadWanted = false;
  #pollTimer: NodeJS.Timeout | undefined;
  #stopWatching: (() => Promise<void>) | undefined;
  #fetchFailures = 0;
  /** Servers whose prepare failed: which version, how often, and when it may be tried again. */
  #failed = new Map<string, { hash: string; attempts: number; retryAt: number; message: string }>();
  #retryTimer: NodeJS.Timeout | undefined;
  #settleTimer: NodeJS.Timeout | undefined;
  #settleBudgetPassed = false;
  #stopped = false;
  #listeners = new Set<(status: SyncStatus) => void>();

  constructor(deps: ReconcilerDeps) {
    this.#deps = deps;
    this.#status = { ready: false, settled: false, reconciles: 0, failures: 0 };
  }

  /** Reconciles once, then follows the source (its events, or polling with backoff). */
  async start(): Promise<void> {
    this.#stopWatching = this.#deps.source.watch((reason) => void this.request(reason));
    await this.request("start");
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#pollTimer);
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#settleTimer);
    await this.#stopWatching?.();
    await this.#running;
  }

  /**
   * Asks for a reconcile. While one runs, requests coalesce into a single follow-up run.
   * Resolves when a reconcile that started after this call has finished.
   */
  request(reason: string, options: { reload?: boolean } = {}): Promise<void> {
    // A reload goes through load and apply even when the revision is already applied: what the
    // files are checked against (the secret store's grants) changed, not the files.
    if (options.reload) this.#reloadWanted = true;
    if (this.#running) {
      // The running loop goes round once more before it resolves.
      this.#again = true;
      this.#deps.logger.debug({ reason }, "reconcile requested while one runs; coalesced");
      return this.#running;
    }
    this.#running = this.#loop(reason).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Called with the new status after every reconcile. */
  onStatus(listener: (status: SyncStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  status(): SyncStatus {
    return {
      source: this.#deps.source.description,
      ...structuredClone(this.#status),
      servers: [...this.#conditions.values()].sort((a, b) => a.prefix.localeCompare(b.prefix)).map((c) => ({ ...c })),
      ...(this.#accessCondition ? { access: { ...this.#accessCondition } } : {}),
    };
  }

  /** The servers serving now, by prefix. */
  servers(): RegistryServer[] {
    return [...this.#applied.values()].map((a) => a.server);
  }

  async #loop(reason: string): Promise<void> {
    do {
      this.#again = false;
      await this.#reconcile(reason);
      reason = "coalesced requests";
    } while (this.#again && !this.#stopped);
    this.#schedulePoll();
    this.#schedulePrepareRetry();
  }

  /** While some server's prepare failed, one more reconcile when the earliest retry is due. */
  #schedulePrepareRetry(): void {
    clearTimeout(this.#retryTimer);
    if (this.#failed.size === 0 || this.#stopped) return;
    const due = Math.min(...[...this.#failed.values()].map((f) => f.retryAt));
    const delay = Math.max(0, due - Date.now());
    this.#deps.logger.debug({ inMs: delay }, "failed prepares will be tried again");
    this.#retryTimer = setTimeout(() => void this.request("prepare retry"), delay);
    this.#retryTimer.unref();
  }

  /** A failed prepare of this version that is not due for another attempt yet. */
  #backingOff(server: RegistryServer): { message: string } | undefined {
    const failed = this.#failed.get(server.prefix);
    return failed && failed.hash === server.hash && Date.now() < failed.retryAt ? failed : undefined;
  }

  #recordFailure(server: RegistryServer, message: string): void {
    const previous = this.#failed.get(server.prefix);
    const attempts = previous?.hash === server.hash ? previous.attempts + 1 : 1;
    const delay = Math.min((this.#deps.prepareRetryMs ?? 5_000) * 2 ** (attempts - 1), this.#deps.maxPrepareRetryMs ?? 60_000);
    this.#failed.set(server.prefix, { hash: server.hash, attempts, retryAt: Date.now() + delay, message });
  }

  /** The settle budget runs from the first applied table. */
  #startSettleBudget(): void {
    this.#settleTimer = setTimeout(() => {
      this.#settleBudgetPassed = true;
      if (this.#settle()) this.#emit();
    }, this.#deps.settleBudgetMs ?? 120_000);
    this.#settleTimer.unref();
  }

  /** Latches `settled` when its condition holds; true when it changed. */
  #settle(): boolean {
    if (this.#status.settled || !this.#status.ready) return false;
    const preparing = [...this.#conditions.values()].some((c) => c.reason === "Preparing");
    if (preparing && !this.#settleBudgetPassed) return false;
    this.#status.settled = true;
    return true;
  }

  #schedulePoll(): void {
    const interval = this.#deps.source.pollIntervalMs;
    if (interval === undefined || this.#stopped) return;
    clearTimeout(this.#pollTimer);
    const backoff = Math.min(interval * 2 ** this.#fetchFailures, this.#deps.maxBackoffMs ?? 5 * 60_000);
    this.#pollTimer = setTimeout(() => void this.request("poll"), backoff);
    this.#pollTimer.unref();
  }

  async #reconcile(reason: string): Promise<void> {
    const now = () => (this.#deps.now?.() ?? new Date()).toISOString();
    const started = performance.now();
    this.#status.reconciles++;
    this.#status.lastAttemptAt = now();
    const log = this.#deps.logger.child({ reason });

    // 1. fetch
    let fetched;
    try {
      fetched = await this.#deps.source.sync();
      this.#fetchFailures = 0;
    } catch (err) {
      this.#fetchFailures++;
      this.#fail("FetchFailed", (err as Error).message, now());
      log.warn({ err: (err as Error).message, failures: this.#fetchFailures }, "fetch failed; the current table keeps serving");
      return;
    }
    const { revision, dir } = fetched;
    this.#status.lastAttemptedRevision = revision;
    const retryPrepare = [...this.#conditions.values()].some((c) => c.reason === "PrepareFailed" || c.reason === "Preparing");
    const reload = this.#reloadWanted;
    this.#reloadWanted = false;
    if (revision === this.#status.lastAppliedRevision && this.#status.ready && !retryPrepare && !reload) {
      log.debug({ revision }, "revision already applied");
      return;
    }

    // 2. load + validate
    let load: RegistryLoad;
    try {
      load = await this.#deps.load(dir);
    } catch (err) {
      this.#fail("ReadFailed", (err as Error).message, now(), revision);
      log.warn({ revision, err: (err as Error).message }, "registry unreadable; the current table keeps serving");
      return;
    }

    // 3. per file: the new version if valid and prepared, else the last good one (stale)
    const next = new Map<string, Applied>();
    const conditions = new Map<string, ServerCondition>();
    const keepOld = (prefix: string, file: string, reasonCode: ServerReason, message: string) => {
      const old = this.#applied.get(prefix);
      if (old) next.set(prefix, old);
      const since = this.#conditions.get(prefix)?.reason === reasonCode ? this.#conditions.get(prefix)!.since : now();
      conditions.set(prefix, {
        prefix, file, serving: !!old, stale: !!old, reason: reasonCode, message, since,
        ...(old ? { appliedRevision: old.revision, hash: old.server.hash } : {}),
      });
    };
    const toPrepare: RegistryServer[] = [];
    const present = new Set(load.files.map((f) => f.prefix));
    for (const prefix of this.#failed.keys()) if (!present.has(prefix)) this.#failed.delete(prefix);
    for (const f of load.files) {
      if (!f.server) {
        keepOld(f.prefix, f.file, "ValidationFailed", f.diagnostics.map(formatDiagnostic).join("\n"));
        continue;
      }
      if (f.server.entry.router?.enabled === false) {
        conditions.set(f.prefix, { prefix: f.prefix, file: f.file, serving: false, stale: false, reason: "Disabled", message: "router.enabled is false", since: now() });
        continue;
      }
      const old = this.#applied.get(f.prefix);
      if (old && old.server.hash === f.server.hash) next.set(f.prefix, old);
      else {
        const backingOff = this.#backingOff(f.server);
        if (backingOff) keepOld(f.prefix, f.file, "PrepareFailed", backingOff.message);
        else toPrepare.push(f.server);
      }
    }
    const budget = this.#deps.prepareBudgetMs ?? 20_000;
    const prepared = await Promise.all(
      toPrepare.map(async (server) => {
        const attempt = this.#deps.prepare(server).then(
          () => undefined,
          (err: unknown) => err as Error,
        );
        let timer: NodeJS.Timeout | undefined;
        const outcome = await Promise.race([attempt, new Promise<"pending">((resolve) => (timer = setTimeout(resolve, budget, "pending")))]);
        clearTimeout(timer);
        if (outcome === "pending") {
          // Still building: applied by the reconcile that follows (prepares are cached per version).
          void attempt.then(() => {
            if (!this.#stopped) void this.request(`prepared ${server.prefix}`);
          });
          return { server, error: undefined, pending: true };
        }
        return { server, error: outcome, pending: false };
      }),
    );
    for (const { server, error, pending } of prepared) {
      if (pending) {
        keepOld(server.prefix, server.file, "Preparing", `still preparing after ${Math.round(budget / 1000)} s (an image build or package install); served as soon as it is ready`);
        log.info({ server: server.prefix }, "prepare still running; the table is applied without this version for now");
      } else if (error) {
        keepOld(server.prefix, server.file, "PrepareFailed", error.message);
        const before = this.#failed.get(server.prefix);
        this.#recordFailure(server, error.message);
        const { attempts, retryAt } = this.#failed.get(server.prefix)!;
        // The same failure again is news to nobody: warn once per version and reason, the repeats at debug.
        const repeat = before?.hash === server.hash && before.message === error.message;
        log[repeat ? "debug" : "warn"]({ server: server.prefix, err: error.message, attempt: attempts, retryInS: Math.round((retryAt - Date.now()) / 1000) }, repeat ? "prepare failed again" : "prepare failed");
      } else {
        this.#failed.delete(server.prefix);
        next.set(server.prefix, { server, revision });
      }
    }
    for (const [prefix, a] of next) {
      if (!conditions.has(prefix)) {
        const unchanged = this.#conditions.get(prefix);
        const same = unchanged?.reason === "Applied" && unchanged.hash === a.server.hash;
        conditions.set(prefix, {
          prefix, file: a.server.file, serving: true, stale: false, reason: "Applied",
          message: `serving ${a.server.name} ${a.server.entry.version}`,
          appliedRevision: a.revision, hash: a.server.hash, since: same ? unchanged.since : now(),
        });
      }
    }

    // 3b. the access policy: the new version if valid, else the last good one (a broken first version grants nothing)
    let access: AccessFile | undefined;
    let accessCondition: AccessCondition | undefined;
    if (load.access) {
      const { file, policy, diagnostics } = load.access;
      const was = this.#accessCondition;
      const reason = policy ? "Applied" : "ValidationFailed";
      access = policy ?? (was ? this.#access : DENY_ALL);
      const message = policy ? `serving ${policy.grants.length} grant(s), ${policy.limits?.length ?? 0} limit(s)` : diagnostics.map(formatDiagnostic).join("\n");
      accessCondition = { file, reason, stale: !policy && access !== DENY_ALL, message, since: was?.reason === reason ? was.since : now() };
    }

    // 4. build the table and swap it in (the gateway notifies its clients)
    const servers = [...next.values()].map((a) => a.server).sort((a, b) => a.prefix.localeCompare(b.prefix));
    try {
      await this.#deps.apply(servers, revision, access);
    } catch (err) {
      this.#fail("ApplyFailed", (err as Error).message, now(), revision);
      log.error({ revision, err: (err as Error).message }, "building the table failed; the current table keeps serving");
      return;
    }
    const replaced = [...this.#applied.values()].filter((a) => next.get(a.server.prefix)?.server !== a.server).map((a) => a.server);
    this.#applied = next;
    this.#conditions = conditions;
    this.#access = access;
    this.#accessCondition = accessCondition;

    // 5. retire replaced and removed versions once their calls end
    for (const server of replaced) {
      Promise.resolve(this.#deps.retire?.(server)).catch((err: Error) => log.warn({ server: server.prefix, err: err.message }, "retire failed"));
    }

    // 6. record status
    const problems: { reason: string; file: string }[] = [...conditions.values()].filter((c) => c.reason === "ValidationFailed" || c.reason === "PrepareFailed");
    if (accessCondition?.reason === "ValidationFailed") problems.unshift(accessCondition);
    if (!this.#status.ready) this.#startSettleBudget();
    this.#status.ready = true;
    this.#settle();
    this.#status.lastAppliedRevision = revision;
    this.#status.lastAppliedAt = now();
    if (problems.length) {
      this.#status.failures++;
      this.#status.lastError = {
        reason: problems[0]!.reason,
        message: `${problems.length} server file(s) could not be applied: ${problems.map((p) => p.file).join(", ")}`,
        at: now(),
        revision,
      };
    }
    log.info(
      { revision, servers: servers.length, prepared: toPrepare.length, problems: problems.length, ms: Math.round(performance.now() - started) },
      "registry applied",
    );
    this.#emit();
  }

  #fail(reason: string, message: string, at: string, revision?: string): void {
    this.#status.failures++;
    this.#status.lastError = { reason, message, at, ...(revision ? { revision } : {}) };
    this.#emit();
  }

  #emit(): void {
    const status = this.status();
    for (const l of this.#listeners) l(status);
  }
}
