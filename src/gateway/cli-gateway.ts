/**
 * `serve`, `stdio` and `desktop-config`: the gateway commands. Concrete collaborators (logger,
 * launcher, registry loading, env values) come from the composition root.
 */
import { readFile } from "node:fs/promises";
import type { Readable, Writable } from "node:stream";
import type { Command } from "commander";
import { Option } from "commander";
import type { Logger } from "pino";
import type { Launcher } from "../launch/launcher.js";
import type { SecretSource } from "../launch/secrets.js";
import type { RegistryServer } from "../registry/types.js";
import type { SyncStatus } from "../sync/reconciler.js";
import { GatewayConfigError, isLoopback, parseKeyFile, resolveApiKeys } from "./api-keys.js";
import type { AuditLog } from "./audit-log.js";
import { AUDIT_DEFAULT_KEEP, openAuditLog, parseByteSize } from "./audit-log.js";
import type { DesktopEntry } from "./desktop-config.js";
import { installDesktopConfig, mergeDesktopConfig } from "./desktop-config.js";
import type { HttpGatewayOptions } from "./http-gateway.js";
import type { ReloadStatus } from "./metrics.js";
import type { KnownSecrets } from "./secret-scrubber.js";
// The gateway itself (MCP SDK, prom-client) is imported by `serve` and `stdio` when they run.

/** What `serve` needs from sync (built by the composition root): the registry, followed. */
export interface RegistryFollower {
  status(): SyncStatus;
  routes: NonNullable<HttpGatewayOptions["routes"]>;
  /** Called with the status after every reconcile that applied a revision or failed (feeds the reload metrics). */
  onStatus?(listener: (status: ReloadStatus & SyncStatus) => void): () => void;
  stop(): Promise<void>;
}

export interface FollowOptions {
  registry: string;
  git?: string;
  branch: string;
  gitSubdir?: string;
  pollSeconds: number;
  webhookSecret?: string;
  dataDir: string;
  logger: Logger;
  prepare(server: RegistryServer): Promise<void>;
  apply(servers: readonly RegistryServer[], revision?: string): Promise<void>;
  retire(server: RegistryServer): Promise<void>;
}

export interface GatewayCommandDeps {
  /** Follows the registry (directory watch or git) and applies every revision through the callbacks. */
  followRegistry(options: FollowOptions): Promise<RegistryFollower>;
  /** MCP_ROUTER_WEBHOOK_SECRET. */
  envWebhookSecret?: string;
  defaultRegistry: string;
  defaultDataDir: string;
  /** API keys from the environment (MCP_ROUTER_API_KEYS), already split. */
  envApiKeys: readonly string[];
  /**
   * A pino logger writing to stderr; every line scrubbed of `secretValues()` (see
   * `scrubbingDestination` in secret-scrubber.ts). The values grow once API keys are known.
   */
  createLogger(level: string, secretValues?: () => readonly string[], format?: "json" | "text"): Promise<Logger>;
  /** The secret source the launcher resolves secrets from: the values of declared secrets are scrubbed from logs, audit lines and errors. */
  secretSource?: () => Promise<SecretSource>;
  /** MCP_ROUTER_AUDIT_LOG: the audit log's file (or `-` for stdout in `serve`) when --audit-log is not given. */
  envAuditLog?: string;
  createLauncher(opts: { dataDir: string; logger: Logger }): Promise<Launcher>;
  /** The registry's valid servers; problems are logged by the implementation. */
  loadServers(registry: string, logger: Logger): Promise<RegistryServer[]>;
  /** How Claude Desktop should start this CLI (absolute node + script). */
  selfCommand: { command: string; args: string[] };
  /** The platform's claude_desktop_config.json. */
  desktopConfigPath: string;
  stdin: Readable;
  stdout: Writable;
  stderr: { write(text: string): unknown; isTTY?: boolean };
  /** Registers a shutdown handler (SIGINT/SIGTERM). */
  onShutdown(handler: () => Promise<void>): void;
}

interface ServeOptions {
  registry: string;
  host: string;
  port: string;
  dataDir: string;
  auth: boolean;
  apiKey?: string[];
  apiKeysFile?: string;
  allowOrigin?: string[];
  allowHost?: string[];
  hierarchical?: boolean;
  git?: string;
  branch: string;
  gitSubdir?: string;
  poll: string;
  webhookSecret?: string;
  auditLog?: string;
  auditLogMaxSize: string;
  auditLogKeep: string;
  logFormat: "auto" | "json" | "text";
  logLevel?: string;
}

interface AuditFlags {
  auditLog?: string;
  auditLogMaxSize: string;
  auditLogKeep: string;
}

function addAuditOptions(command: Command, target: string): Command {
  return command
    .option("--audit-log <file>", `append one JSON line per call (who, what, where, how it ended; never arguments) to this file${target}`)
    .option("--audit-log-max-size <size>", "rotate the audit log file when it would grow past this size", "10m")
    .option("--audit-log-keep <n>", "rotated audit log files kept (<file>.1 .. <file>.<n>)", String(AUDIT_DEFAULT_KEEP));
}

/** Opens the audit log the flags (or MCP_ROUTER_AUDIT_LOG) ask for; `stdout` only where it is free for it. */
async function openAudit(flags: AuditFlags, deps: GatewayCommandDeps, logger: Logger, scrub: (text: string) => string, stdout: GatewayCommandDeps["stdout"] | undefined): Promise<AuditLog | undefined> {
  const target = flags.auditLog ?? deps.envAuditLog;
  if (!target) return undefined;
  const keep = Number(flags.auditLogKeep);
  let failing = false;
  const audit = await openAuditLog({
    target,
    ...(stdout ? { stdout } : {}),
    maxBytes: parseByteSize(flags.auditLogMaxSize),
    keep,
    scrub,
    onError: (error) => {
      if (failing) return;
      failing = true;
      logger.error({ err: error.message, file: target }, "audit log write failed; lines are dropped until it works again");
      setTimeout(() => (failing = false), 60_000).unref();
    },
  });
  logger.info({ target: target === "-" ? "stdout" : target }, "audit log on");
  return audit;
}

/** Follows the routing table: the values of the secrets its servers declare join the known secrets. */
async function followDeclaredSecrets(
  known: KnownSecrets,
  holder: { current(): { servers: ReadonlyMap<string, { server: RegistryServer }> }; subscribe(l: () => void): () => void },
  secretSource: (() => Promise<SecretSource>) | undefined,
): Promise<void> {
  if (!secretSource) return;
  const source = await secretSource();
  const update = (): void => known.declare([...holder.current().servers.values()].map((r) => r.server), source);
  update();
  holder.subscribe(update);
}

export function registerGatewayCommands(program: Command, deps: GatewayCommandDeps): void {
  const serve = program
    .command("serve")
    .description("serve every registry server through one MCP endpoint over HTTP (Streamable HTTP /mcp, legacy SSE /sse)")
    .option("--registry <dir>", "registry folder", deps.defaultRegistry)
    .option("--host <host>", "address to bind", "127.0.0.1")
    .option("--port <port>", "port to listen on (0 = any free port)", "8808")
    .option("--data-dir <dir>", "where catalogs, prepared packages and the generated API key live", deps.defaultDataDir)
    .option("--api-key <key...>", "accepted bearer key(s) (prefer MCP_ROUTER_API_KEYS or --api-keys-file: argv is visible to local users)")
    .option("--api-keys-file <file>", "file with accepted bearer keys, one per line")
    .option("--no-auth", "accept requests without a bearer key (only on a loopback bind)")
    .option("--allow-origin <origin...>", "extra allowed Origin values (browser clients)")
    .option("--allow-host <host...>", "extra allowed Host header values (needed behind a proxy or on a wildcard bind)")
    .option("--hierarchical", "expose list_servers, list_tools, search_tools and call_tool instead of every tool")
    .option("--git <url>", "follow a registry in a git remote instead of --registry (cloned into the data dir)")
    .option("--branch <branch>", "branch of --git to follow", "main")
    .option("--git-subdir <dir>", "folder of the registry inside the git repository (holding servers/)")
    .option("--poll <seconds>", "how often to fetch --git (backs off on failures)", "30")
    .option("--webhook-secret <secret>", "enable POST /hooks/github, verified with this secret (prefer MCP_ROUTER_WEBHOOK_SECRET)")
    .addOption(new Option("--log-format <format>", "auto: readable lines and a ready summary on a terminal, JSON otherwise").choices(["auto", "json", "text"]).default("auto"))
    .addOption(new Option("--log-level <level>", "log level (default: info for JSON logs, warn for text)").choices(["trace", "debug", "info", "warn", "error", "silent"]));
  addAuditOptions(serve, ", or `-` for stdout (also MCP_ROUTER_AUDIT_LOG)")
    .addHelpText(
      "after",
      "\nThe registry is followed: edits under --registry (or commits on --git's branch) are validated and\nswapped in without dropping calls; a broken file keeps its last good version serving. GET /status\nshows revisions and per-server conditions (`mcp-router status`). /readyz is 200 once every server finished\nits first prepare attempt (live or failed), or 2 minutes after the first table, whichever comes first.\nGET /metrics serves Prometheus metrics (with the same bearer key).",
    )
    .action(async (opts: ServeOptions) => {
      const [{ KnownSecrets, secretScrubber }, { GatewayMetrics }, { startGatewayRuntime }, { startHttpGateway }, { readyReporter }] = await Promise.all([
        import("./secret-scrubber.js"),
        import("./metrics.js"),
        import("./gateway-runtime.js"),
        import("./http-gateway.js"),
        import("../daemon/ready-report.js"),
      ]);
      const known = new KnownSecrets();
      const scrub = secretScrubber(known.values);
      const text = opts.logFormat === "text" || (opts.logFormat === "auto" && deps.stderr.isTTY === true);
      const logger = await deps.createLogger(opts.logLevel ?? (text ? "warn" : "info"), known.values, text ? "text" : "json");
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new GatewayConfigError("BAD_PORT", `--port ${opts.port} is not a port number`, "Pass 0..65535.");
      let apiKeys: string[] | undefined;
      if (opts.auth) {
        const given = [...deps.envApiKeys, ...(opts.apiKey ?? []), ...(opts.apiKeysFile ? parseKeyFile(await readFile(opts.apiKeysFile, "utf8")) : [])];
        const resolved = await resolveApiKeys(given, opts.dataDir);
        apiKeys = resolved.keys;
        known.add(...apiKeys);
        if (resolved.generated) {
          deps.stderr.write(
            `\nGenerated an API key (stored in ${resolved.generated.file}, mode 0600; shown only this once):\n\n  ${resolved.generated.key}\n\nClients send it as: Authorization: Bearer <key>\n\n`,
          );
        }
        logger.info({ keys: apiKeys.length, source: resolved.source }, "bearer auth on");
      } else {
        if (!isLoopback(opts.host)) {
          throw new GatewayConfigError("NO_AUTH_NOT_LOOPBACK", `--no-auth is refused on ${opts.host}`, "Bind to 127.0.0.1 for --no-auth, or keep auth on.");
        }
        logger.warn("auth is OFF (--no-auth): any local process can use the gateway");
      }
      const pollSeconds = Number(opts.poll);
      if (!(pollSeconds > 0)) throw new GatewayConfigError("BAD_POLL", `--poll ${opts.poll} is not a positive number of seconds`, "Pass e.g. --poll 30.");
      const webhookSecret = opts.webhookSecret ?? deps.envWebhookSecret;
      if (webhookSecret) known.add(webhookSecret);
      const audit = await openAudit(opts, deps, logger, scrub, deps.stdout);
      const launcher = await deps.createLauncher({ dataDir: opts.dataDir, logger });
      let sessions = (): number => 0;
      const metrics = new GatewayMetrics({ launcherStats: () => launcher.stats(), sessions: () => sessions() });
      const runtime = await startGatewayRuntime({
        servers: [],
        launcher,
        dataDir: opts.dataDir,
        logger,
        discover: false,
        metrics,
        scrub,
        ...(audit ? { audit } : {}),
        ...(opts.hierarchical ? { hierarchical: true } : {}),
      });
      sessions = () => runtime.gateway.sessionCount;
      await followDeclaredSecrets(known, runtime.holder, deps.secretSource);
      const sync = await deps.followRegistry({
        registry: opts.registry,
        ...(opts.git ? { git: opts.git } : {}),
        branch: opts.branch,
        ...(opts.gitSubdir ? { gitSubdir: opts.gitSubdir } : {}),
        pollSeconds,
        ...(webhookSecret ? { webhookSecret } : {}),
        dataDir: opts.dataDir,
        logger,
        prepare: async (server) => {
          await launcher.prepare(server, (message) => logger.info({ server: server.prefix }, message));
          await runtime.ensureCatalog(server);
        },
        apply: (servers, revision) => runtime.apply(servers, revision),
        retire: (server) => launcher.retire(server),
      });
      sync.onStatus?.((status) => metrics.observeReload(status));
      if (text) {
        const report = readyReporter((line) => deps.stderr.write(`${line}\n`));
        sync.onStatus?.((status) => report.observe(status));
      }
      const http = await startHttpGateway({
        routes: sync.routes,
        metrics,
        gateway: runtime.gateway,
        logger,
        host: opts.host,
        port,
        apiKeys,
        ...(opts.allowOrigin ? { allowedOrigins: opts.allowOrigin } : {}),
        ...(opts.allowHost ? { allowedHosts: opts.allowHost } : {}),
        readiness: () => {
          const status = sync.status();
          const table = runtime.holder.current();
          const preparing = status.servers.filter((s) => s.reason === "Preparing").length;
          return { ready: status.ready && status.settled, detail: { revision: status.lastAppliedRevision ?? null, servers: table.servers.size, tools: table.toolList.length, preparing } };
        },
      });
      deps.stderr.write(`mcp-router listening: ${new URL("mcp", http.url).href} (Streamable HTTP), ${new URL("sse", http.url).href} (SSE), ${new URL("status", http.url).href}\n`);
      deps.onShutdown(async () => {
        logger.info("shutting down");
        await sync.stop();
        await http.close();
        await runtime.gateway.close();
        await launcher.close();
        await audit?.close();
      });
    });

  const stdioCommand = program
    .command("stdio")
    .description("serve every registry server as one MCP server over stdio (for Claude Desktop); logs go to stderr")
    .option("--registry <dir>", "registry folder", deps.defaultRegistry)
    .option("--data-dir <dir>", "where catalogs and prepared packages live", deps.defaultDataDir)
    .option("--hierarchical", "expose list_servers, list_tools, search_tools and call_tool instead of every tool")
    .addOption(new Option("--log-level <level>", "log level (stderr)").choices(["trace", "debug", "info", "warn", "error", "silent"]).default("warn"));
  addAuditOptions(stdioCommand, " (not `-`: stdout carries the protocol here; also MCP_ROUTER_AUDIT_LOG)")
    .action(async (opts: { registry: string; dataDir: string; hierarchical?: boolean; logLevel: string } & AuditFlags) => {
      const [{ KnownSecrets, secretScrubber }, { startGatewayRuntime }, { startStdioGateway }] = await Promise.all([
        import("./secret-scrubber.js"),
        import("./gateway-runtime.js"),
        import("./stdio-gateway.js"),
      ]);
      const known = new KnownSecrets();
      const scrub = secretScrubber(known.values);
      const logger = await deps.createLogger(opts.logLevel, known.values);
      const audit = await openAudit(opts, deps, logger, scrub, undefined);
      const servers = await deps.loadServers(opts.registry, logger);
      const launcher = await deps.createLauncher({ dataDir: opts.dataDir, logger });
      const runtime = await startGatewayRuntime({
        servers,
        launcher,
        dataDir: opts.dataDir,
        logger,
        scrub,
        ...(audit ? { audit } : {}),
        ...(opts.hierarchical ? { hierarchical: true } : {}),
      });
      await followDeclaredSecrets(known, runtime.holder, deps.secretSource);
      const stdio = await startStdioGateway(runtime.gateway, deps.stdin, deps.stdout);
      let stopping: Promise<void> | undefined;
      const stop = (): Promise<void> =>
        (stopping ??= (async () => {
          await runtime.gateway.close();
          await launcher.close();
          await audit?.close();
        })());
      deps.onShutdown(async () => {
        await stdio.close();
        await stop();
      });
      await stdio.closed;
      await stop();
    });

  program
    .command("desktop-config")
    .description("print the Claude Desktop entry that starts `mcp-router stdio`, or merge it into claude_desktop_config.json")
    .option("--install", "merge the entry into Claude Desktop's config (other entries kept, a backup written)")
    .option("--name <name>", "entry name under mcpServers", "mcp-router")
    .option("--registry <dir>", "registry folder the entry serves (made absolute)")
    .option("--data-dir <dir>", "data dir the entry uses")
    .option("--hierarchical", "start the gateway in hierarchical mode")
    .option("--config <file>", "config file to merge into", deps.desktopConfigPath)
    .action(async (opts: { install?: boolean; name: string; registry?: string; dataDir?: string; hierarchical?: boolean; config: string }) => {
      const { resolve } = await import("node:path");
      const entry: DesktopEntry = {
        command: deps.selfCommand.command,
        args: [
          ...deps.selfCommand.args,
          "stdio",
          "--registry",
          resolve(opts.registry ?? deps.defaultRegistry),
          ...(opts.dataDir ? ["--data-dir", resolve(opts.dataDir)] : []),
          ...(opts.hierarchical ? ["--hierarchical"] : []),
        ],
      };
      if (!opts.install) {
        deps.stdout.write(mergeDesktopConfig(undefined, opts.name, entry));
        deps.stderr.write(`Add this under "mcpServers" in ${opts.config}, or run again with --install.\n`);
        return;
      }
      const result = await installDesktopConfig(opts.config, opts.name, entry);
      deps.stderr.write(`Updated ${result.file}${result.backup ? ` (backup: ${result.backup})` : ""}. Restart Claude Desktop to load it.\n`);
    });
}
