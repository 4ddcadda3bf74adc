/**
 * THE daemon: the one place its parts are put together, in this order, and taken apart in the
 * reverse one. `mcp-router serve` and `mcp-router stdio`, every test harness and the benchmarks
 * call this function, so what is tested and measured is what users run.
 *
 *   secrets -> logger -> audit (+ recent calls) -> tracer -> launcher -> metrics -> gateway runtime -> reconciler
 *   -> console -> transports
 *
 * Nothing here reads the environment or argv: the CLI turns those into a DaemonConfig.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import type { Logger } from "pino";
import type { GatewayRuntime } from "../gateway/gateway-runtime.js";
import { startGatewayRuntime } from "../gateway/gateway-runtime.js";
import type { Launcher } from "../launch/launcher.js";
import type { SecretSource } from "../secrets/secret-source.js";
import { secretGrants } from "../secrets/secret-source.js";
import type { OperatorPolicy } from "../registry/policy.js";
import type { SecretGrants } from "../registry/store-lookups.js";
import { DEFAULT_POLICY } from "../registry/policy.js";
import type { AuditLog } from "../observe/audit-log.js";
import { AUDIT_DEFAULT_KEEP, openAuditLog } from "../observe/audit-log.js";
import { GatewayMetrics } from "../observe/metrics.js";
import type { CallTracer, TracingSettings } from "../observe/tracing.js";
import { openCallTracer } from "../observe/tracing.js";
import { RecentCalls } from "../observe/recent-calls.js";
import { KnownSecrets, secretScrubber } from "../secrets/secret-scrubber.js";
import type { WritableSecretStore } from "../secrets/console-secret-store.js";
import { openConsoleSecretStore } from "../secrets/console-secret-store.js";
import { chainSecretSources } from "../secrets/secret-source.js";
import type { DesktopSnippet, WebConsole } from "../console/console.js";
import type { ProposerSettings } from "../console/proposals.js";
import { createConsole } from "../console/console.js";
import type { SyncStatus } from "../sync/reconciler.js";
import type { RegistrySync } from "../sync/registry-sync.js";
import { startRegistrySync } from "../sync/registry-sync.js";
import { createGithubWebhookHandler } from "../transports/github-webhook.js";
import { OAuthTokenVerifier } from "../auth/oauth-token-verifier.js";
import type { OAuthResourceSettings } from "../transports/http-auth.js";
import type { HttpGateway } from "../transports/http-server.js";
import { startHttpGateway } from "../transports/http-server.js";
import type { StdioGateway } from "../transports/stdio-server.js";
import { startStdioGateway } from "../transports/stdio-server.js";
import type { DockerSettings } from "./create-launcher.js";
import { createLauncher } from "./create-launcher.js";
import type { LogSettings } from "./create-logger.js";
import { createLogger } from "./create-logger.js";

export interface DaemonConfig {
  /** A registry folder (watched), or a git remote (polled, and fetched on push webhooks). */
  registry: { dir: string } | { git: string; branch: string; subdir?: string; pollSeconds: number };
  /** Catalogs, prepared packages, the git clone. */
  dataDir: string;
  /** The secret store: the values servers' declared inputs resolve to, and so what they are granted. */
  secrets: SecretSource;
  /** What privileged settings registry files may use (default: DEFAULT_POLICY, the strictest). */
  policy?: OperatorPolicy;
  log: LogSettings;
  /** Serve over HTTP (Streamable HTTP, SSE, status, metrics, webhook). */
  http?: {
    host: string;
    port: number;
    /** Accepted bearer keys; undefined = auth off (refused unless the bind is loopback). */
    apiKeys: readonly string[] | undefined;
    /** Also accept OAuth access tokens (JWTs) from this issuer: the gateway as an OAuth protected resource. */
    oauth?: OAuthSettings;
    allowedOrigins?: readonly string[];
    allowedHosts?: readonly string[];
    /** Most sessions held at once (Streamable HTTP and SSE together; default 1000). */
    maxSessions?: number;
    /** An idle Streamable HTTP session is closed after this (default 10 minutes; 0 = never). */
    sessionIdleMs?: number;
    /** Request headers must arrive within this (default 15 s). */
    headersTimeoutMs?: number;
    /** The whole request, headers and body, must arrive within this (default 30 s). */
    bodyTimeoutMs?: number;
    /** The web console at `/` (on unless `false`). */
    console?: false | { idleMs?: number; trustProxy?: boolean; desktop?: DesktopSnippet; proposer?: ProposerSettings };
  };
  /** Serve one client over these streams (Claude Desktop). */
  stdio?: { stdin: Readable; stdout: Writable };
  hierarchical?: boolean;
  /** Enables POST /hooks/github, verified with this secret. */
  webhookSecret?: string;
  /** One JSON line per call: a file, or `-` with `stdout` for standard output. */
  audit?: { target: string; maxBytes?: number; keep?: number; stdout?: Writable };
  /** OpenTelemetry traces to an OTLP/HTTP collector; undefined = off (the SDK is not even loaded). */
  tracing?: TracingSettings;
  /** How containers are run (the default launcher). */
  docker?: DockerSettings;
  /** Launch with this instead of the default launcher (tests: an in-process upstream); the daemon closes it. */
  launcher?: Launcher;
  /** Reconciler timings (defaults suit production). */
  reconcile?: { prepareBudgetMs?: number; prepareRetryMs?: number; settleBudgetMs?: number };
}

export interface OAuthSettings {
  /** The authorization server's issuer URL, exactly as its metadata spells it. */
  issuer: string;
  /** Scopes every token must carry. */
  requiredScopes?: readonly string[];
  /** The claim with the caller's groups or roles (default `groups`). */
  groupsClaim?: string;
  /** The gateway's URL as clients reach it: token audiences and metadata are built from it (default the bound address). */
  publicUrl?: string;
}

export interface Daemon {
  readonly logger: Logger;
  readonly launcher: Launcher;
  readonly runtime: GatewayRuntime;
  readonly sync: RegistrySync;
  readonly metrics: GatewayMetrics;
  /** The call tracer, when tracing is on. */
  readonly tracer: CallTracer | undefined;
  readonly http: HttpGateway | undefined;
  /** The web console, when serving HTTP with it on. */
  readonly console: WebConsole | undefined;
  readonly stdio: StdioGateway | undefined;
  /** The HTTP endpoint's base URL, when serving HTTP. */
  readonly url: URL | undefined;
  status(): SyncStatus;
  /** Resolves when a stdio client has gone (never, for HTTP only). */
  readonly done: Promise<void>;
  /** Stops following the registry, closes transports, sessions, containers and the audit log, in that order. Idempotent. */
  close(): Promise<void>;
}

export async function startDaemon(config: DaemonConfig): Promise<Daemon> {
  // 1. secrets: what the operator granted, and (with the console) what was set from the console,
  // which comes first. Every value the daemon knows is scrubbed from logs, audit lines and client errors.
  const consoleOn = config.http !== undefined && config.http.console !== false;
  const consoleSecrets: WritableSecretStore | undefined = consoleOn ? openConsoleSecretStore(path.join(config.dataDir, "console-secrets")) : undefined;
  const secrets = consoleSecrets ? chainSecretSources(consoleSecrets, config.secrets) : config.secrets;
  const known = new KnownSecrets();
  if (config.http?.apiKeys) known.add(...config.http.apiKeys);
  if (config.webhookSecret) known.add(config.webhookSecret);
  if (config.tracing?.headers) known.add(...Object.values(config.tracing.headers));
  const proposer = config.http?.console ? config.http.console.proposer : undefined;
  for (const credential of [proposer?.githubToken, proposer?.anthropicApiKey]) if (credential) known.add(credential);
  const scrub = secretScrubber(known.values);

  // 2. logger
  const logger = createLogger(config.log, known.values);

  // 3. audit log
  let audit: AuditLog | undefined;
  if (config.audit) {
    audit = await openAuditLog({
      target: config.audit.target,
      ...(config.audit.stdout ? { stdout: config.audit.stdout } : {}),
      ...(config.audit.maxBytes !== undefined ? { maxBytes: config.audit.maxBytes } : {}),
      keep: config.audit.keep ?? AUDIT_DEFAULT_KEEP,
      scrub,
      onError: auditErrorReporter(logger, config.audit.target),
    });
    logger.info({ target: config.audit.target === "-" ? "stdout" : config.audit.target }, "audit log on");
  }

  // 3a. the last calls of each server, for the web console's server page (in front of the audit file, if any)
  const recentCalls = consoleOn ? new RecentCalls(audit) : undefined;
  const callAudit = recentCalls ?? audit;

  // 3b. tracer: loaded only when tracing is on
  let tracer: CallTracer | undefined;
  if (config.tracing) {
    tracer = await openCallTracer(config.tracing);
    logger.info({ endpoint: redactUrl(config.tracing.url), service: config.tracing.serviceName ?? "mcp-router" }, "tracing on (OTLP/HTTP)");
  }

  // 4. launcher
  const policy = config.policy ?? DEFAULT_POLICY;
  const launcher =
    config.launcher ??
    (await createLauncher({ logger, secrets, dataDir: config.dataDir, privateTargets: policy.network.privateTargets, ...(config.docker ? { docker: config.docker } : {}) }));

  // 5. metrics, 6. gateway runtime (sessions and routing; the table starts empty and is filled by the reconciler)
  let sessions = (): number => 0;
  const metrics = new GatewayMetrics({ launcherStats: () => launcher.stats(), sessions: () => sessions() });
  const runtime = await startGatewayRuntime({
    servers: [],
    launcher,
    dataDir: config.dataDir,
    logger,
    discover: false,
    metrics,
    scrub,
    ...(callAudit ? { audit: callAudit } : {}),
    ...(tracer ? { tracer } : {}),
    ...(config.hierarchical ? { hierarchical: true } : {}),
  });
  sessions = () => runtime.gateway.sessionCount;
  const declare = (): void => known.declare([...runtime.holder.current().servers.values()].map((r) => r.server), secrets);
  declare();
  runtime.holder.subscribe(declare);

  // 7. reconciler: the registry, followed, prepared and applied
  const registry = config.registry;
  const checks = { policy, grants: consoleSecrets ? withConsoleHint(secretGrants(secrets)) : secretGrants(secrets) };
  const sync = startRegistrySync({
    ...("git" in registry
      ? { registry: "", git: registry.git, branch: registry.branch, ...(registry.subdir ? { gitSubdir: registry.subdir } : {}), pollSeconds: registry.pollSeconds }
      : { registry: registry.dir, branch: "main", pollSeconds: 30 }),
    dataDir: config.dataDir,
    logger,
    prepare: async (server) => {
      // A cached catalog hands the era it kept to the launcher first: prepare has nothing to probe then.
      await runtime.store.load(server);
      await launcher.prepare(server, (message) => logger.info({ server: server.prefix }, message));
      await runtime.ensureCatalog(server);
    },
    apply: (servers, revision, access) => runtime.apply(servers, revision, access),
    retire: (server) => launcher.retire(server),
    checks,
    ...(config.reconcile ?? {}),
  });
  sync.onStatus((status) => metrics.observeReload(status));

  // 8. transports
  let http: HttpGateway | undefined;
  let webConsole: WebConsole | undefined;
  if (config.http) {
    const routes: Record<string, { method: string; public?: boolean; handle(req: IncomingMessage, res: ServerResponse): Promise<void> | void }> = {
      "/status": {
        method: "GET",
        handle: (_req, res) => void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(sync.status(), null, 2)),
      },
    };
    if (config.webhookSecret) {
      const branch = "git" in registry ? registry.branch : "main";
      routes["/hooks/github"] = {
        method: "POST",
        public: true,
        handle: createGithubWebhookHandler({
          secret: config.webhookSecret,
          branch,
          onPush: (revision) => {
            logger.info({ revision }, "push webhook: fetching now");
            void sync.reconciler.request("webhook");
          },
        }),
      };
    }
    let oauth: OAuthResourceSettings | undefined;
    if (config.http.oauth) {
      const settings = config.http.oauth;
      const verifier = new OAuthTokenVerifier({ issuer: settings.issuer, ...(settings.groupsClaim ? { groupsClaim: settings.groupsClaim } : {}) });
      oauth = { verifier, ...(settings.requiredScopes ? { requiredScopes: settings.requiredScopes } : {}), ...(settings.publicUrl ? { publicUrl: settings.publicUrl } : {}) };
      // Found now so a wrong issuer shows at start; requests try again if it was only unreachable.
      verifier.warmUp().then(
        () => logger.info({ issuer: settings.issuer }, "OAuth: accepting access tokens from the issuer"),
        (error: unknown) => logger.warn({ issuer: settings.issuer, err: (error as Error).message }, "OAuth: the issuer's metadata could not be read yet; tokens are refused until it can"),
      );
    }
    if (recentCalls) {
      const settings = config.http.console || {};
      webConsole = createConsole({
        gateway: runtime.gateway,
        logger,
        apiKeys: config.http.apiKeys,
        status: () => sync.status(),
        onStatus: (listener) => sync.onStatus(listener),
        secrets,
        ...(consoleSecrets ? { secretStore: consoleSecrets } : {}),
        onSecretsChanged: (value) => {
          if (value !== undefined) known.add(value);
          // The files are the same; what they are checked against is not: a server waiting for this secret can apply now.
          void sync.reconciler.request("secret store changed", { reload: true });
        },
        recentCalls,
        registryRoot: "git" in registry ? path.join(config.dataDir, "registry-repo", registry.subdir ?? "") : registry.dir,
        ...(settings.idleMs !== undefined ? { idleMs: settings.idleMs } : {}),
        ...(settings.trustProxy ? { trustProxy: true } : {}),
        ...(settings.desktop ? { desktop: settings.desktop } : {}),
        ...(settings.proposer ? { proposer: settings.proposer } : {}),
        checks,
        registryWritable: !("git" in registry),
        metrics,
      });
      Object.assign(routes, webConsole.routes);
    }
    http = await startHttpGateway({
      gateway: runtime.gateway,
      logger,
      host: config.http.host,
      port: config.http.port,
      apiKeys: config.http.apiKeys,
      ...(oauth ? { oauth } : {}),
      ...(config.http.allowedOrigins ? { allowedOrigins: config.http.allowedOrigins } : {}),
      ...(config.http.allowedHosts ? { allowedHosts: config.http.allowedHosts } : {}),
      ...(config.http.maxSessions !== undefined ? { maxSessions: config.http.maxSessions } : {}),
      ...(config.http.sessionIdleMs !== undefined ? { sessionIdleMs: config.http.sessionIdleMs } : {}),
      ...(config.http.headersTimeoutMs !== undefined ? { headersTimeoutMs: config.http.headersTimeoutMs } : {}),
      ...(config.http.bodyTimeoutMs !== undefined ? { bodyTimeoutMs: config.http.bodyTimeoutMs } : {}),
      routes,
      ...(webConsole ? { prefixRoutes: webConsole.prefixRoutes } : {}),
      metrics,
      readiness: () => {
        const status = sync.status();
        const table = runtime.holder.current();
        const preparing = status.servers.filter((s) => s.reason === "Preparing").length;
        return { ready: status.ready && status.settled, detail: { revision: status.lastAppliedRevision ?? null, servers: table.servers.size, tools: table.toolList.length, preparing } };
      },
    });
  }
  let stdio: StdioGateway | undefined;
  if (config.stdio) {
    // A stdio client gets the first table (prepares are bounded by the prepare budget), then list changes.
    await sync.started;
    stdio = await startStdioGateway(runtime.gateway, config.stdio.stdin, config.stdio.stdout);
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      logger.info("shutting down");
      await sync.stop();
      webConsole?.close();
      await http?.close();
      await stdio?.close();
      await runtime.gateway.close();
      await launcher.close();
      await audit?.close();
      await tracer?.close().catch((error: unknown) => logger.warn({ err: (error as Error).message }, "tracing: the last spans could not be exported"));
    })());
  return {
    logger,
    launcher,
    runtime,
    sync,
    metrics,
    tracer,
    http,
    console: webConsole,
    stdio,
    url: http?.url,
    status: () => sync.status(),
    done: stdio ? stdio.closed : new Promise<void>(() => undefined),
    close,
  };
}

/** The grants' hint, plus the way the console offers. */
function withConsoleHint(grants: SecretGrants): SecretGrants {
  return { has: (name) => grants.has(name), howToGrant: (name) => `${grants.howToGrant(name)} Or set it on the web console's Secrets page.` };
}

/** A URL for a log line: without credentials or query. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}

/** Reports audit write failures once a minute at most: lines are dropped meanwhile, calls go on. */
function auditErrorReporter(logger: Logger, target: string): (error: Error) => void {
  let failing = false;
  return (error) => {
    if (failing) return;
    failing = true;
    logger.error({ err: error.message, file: target }, "audit log write failed; lines are dropped until it works again");
    setTimeout(() => (failing = false), 60_000).unref();
  };
}
