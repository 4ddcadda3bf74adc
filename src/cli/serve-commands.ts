/**
 * `serve`, `stdio` and `desktop-config`: the gateway commands. `serve` and `stdio` turn flags and
 * environment into a DaemonConfig and call startDaemon (src/daemon), the one assembly of the
 * daemon; nothing is put together here.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { Option } from "commander";
import { ConfigError } from "../config-error.js";
import type { ProposerSettings } from "../console/proposals.js";
import type { DaemonConfig } from "../daemon/start-daemon.js";
import { AUDIT_DEFAULT_KEEP, parseByteSize } from "../observe/audit-log.js";
import { isLoopback, parseKeyFile, resolveApiKeys } from "../auth/api-keys.js";
import type { CliContext, GlobalOptions } from "./context.js";
import { defaultDataDir, defaultRegistry, dockerSettings, operatorPolicy, secretSource, splitList } from "./context.js";
import type { DesktopEntry } from "./desktop-config.js";
import { desktopConfigPath, installDesktopConfig, mergeDesktopConfig } from "./desktop-config.js";

interface ServeOptions extends AuditFlags, TracingFlags {
  registry: string;
  host: string;
  port: string;
  dataDir: string;
  auth: boolean;
  apiKey?: string[];
  apiKeysFile?: string;
  allowOrigin?: string[];
  allowHost?: string[];
  oauthIssuer?: string;
  oauthScope?: string[];
  oauthGroupsClaim: string;
  publicUrl?: string;
  maxSessions: string;
  sessionIdleSeconds: string;
  hierarchical?: boolean;
  git?: string;
  branch: string;
  gitSubdir?: string;
  poll: string;
  webhookSecret?: string;
  logFormat: "auto" | "json" | "text";
  logLevel?: string;
  console: boolean;
  consoleIdleMinutes: string;
  trustProxy?: boolean;
}

interface StdioOptions extends AuditFlags, TracingFlags {
  registry: string;
  dataDir: string;
  hierarchical?: boolean;
  logLevel: string;
}

interface AuditFlags {
  auditLog?: string;
  auditLogMaxSize: string;
  auditLogKeep: string;
}

interface TracingFlags {
  otelEndpoint?: string;
}

function addTracingOption(command: Command): Command {
  return command.option(
    "--otel-endpoint <url>",
    "export OpenTelemetry traces (a span per call) to this OTLP/HTTP collector base URL, e.g. http://localhost:4318 (also OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT); off by default",
  );
}

function addAuditOptions(command: Command, target: string): Command {
  return command
    .option("--audit-log <file>", `append one JSON line per call (who, what, where, how it ended; never arguments) to this file${target}`)
    .option("--audit-log-max-size <size>", "rotate the audit log file when it would grow past this size", "10m")
    .option("--audit-log-keep <n>", "rotated audit log files kept (<file>.1 .. <file>.<n>)", String(AUDIT_DEFAULT_KEEP));
}

/** The audit settings the flags (or MCP_ROUTER_AUDIT_LOG) ask for; `-` writes to `stdout` where it is free for it. */
function auditConfig(flags: AuditFlags, ctx: CliContext, stdoutFree: boolean): DaemonConfig["audit"] {
  const target = flags.auditLog ?? ctx.env.MCP_ROUTER_AUDIT_LOG;
  if (!target) return undefined;
  return { target, maxBytes: parseByteSize(flags.auditLogMaxSize), keep: Number(flags.auditLogKeep), ...(stdoutFree ? { stdout: ctx.stdout } : {}) };
}

/**
 * The tracing settings the flag or the standard OpenTelemetry environment ask for: `--otel-endpoint`
 * and OTEL_EXPORTER_OTLP_ENDPOINT are base URLs (`/v1/traces` is appended), OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
 * is used as it is; OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_(TRACES_)HEADERS are respected, OTEL_SDK_DISABLED=true turns it off.
 */
export function tracingConfig(flags: TracingFlags, env: CliContext["env"]): DaemonConfig["tracing"] {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return undefined;
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const base = flags.otelEndpoint ?? env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const url = flags.otelEndpoint === undefined && traces ? traces : base ? `${base.replace(/\/+$/, "")}/v1/traces` : undefined;
  if (!url) return undefined;
  const source = flags.otelEndpoint !== undefined ? "--otel-endpoint" : url === traces ? "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" : "OTEL_EXPORTER_OTLP_ENDPOINT";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError("BAD_OTEL_ENDPOINT", `${source} ${JSON.stringify(url)} is not a URL`, "Give the collector's OTLP/HTTP base URL, e.g. --otel-endpoint http://localhost:4318.");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new ConfigError("BAD_OTEL_ENDPOINT", `${source} ${parsed.protocol} is not supported: traces are exported over OTLP/HTTP`, "Give an http:// or https:// URL, e.g. http://localhost:4318 (OTLP/HTTP, not gRPC's 4317).");
  }
  const headers = { ...otlpHeaders(env.OTEL_EXPORTER_OTLP_HEADERS), ...otlpHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS) };
  const serviceName = env.OTEL_SERVICE_NAME?.trim();
  return { url, ...(serviceName ? { serviceName } : {}), ...(Object.keys(headers).length > 0 ? { headers } : {}) };
}

/** `key1=value1,key2=value2` (values URL-encoded), the OTLP exporter headers format. */
function otlpHeaders(value: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (value ?? "").split(",")) {
    const eq = pair.indexOf("=");
    if (eq <= 0) continue;
    headers[decodeURIComponent(pair.slice(0, eq).trim())] = decodeURIComponent(pair.slice(eq + 1).trim());
  }
  return headers;
}

/** The OAuth resource-server settings the flags (or MCP_ROUTER_OAUTH_*) ask for; undefined = API keys only. */
export function oauthConfig(flags: Pick<ServeOptions, "oauthIssuer" | "oauthScope" | "oauthGroupsClaim" | "publicUrl" | "host" | "auth">, env: CliContext["env"]): NonNullable<DaemonConfig["http"]>["oauth"] {
  const issuer = flags.oauthIssuer ?? env.MCP_ROUTER_OAUTH_ISSUER?.trim();
  if (!issuer) return undefined;
  if (!flags.auth) throw new ConfigError("OAUTH_WITH_NO_AUTH", "--oauth-issuer and --no-auth contradict each other", "Drop --no-auth: with an issuer, callers need an API key or an access token.");
  const url = (value: string, flag: string): URL => {
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new ConfigError("BAD_OAUTH_URL", `${flag} ${JSON.stringify(value)} is not a URL`, `Give an absolute URL, e.g. ${flag} https://auth.example.com.`);
    }
    // Plain http only to this machine (a local test issuer); anything else could be spoofed on the way.
    if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && isLoopback(parsed.hostname))) {
      throw new ConfigError("BAD_OAUTH_URL", `${flag} ${value} is not https`, `Use https:// (plain http is accepted for loopback addresses only).`);
    }
    if (parsed.hash || parsed.search) throw new ConfigError("BAD_OAUTH_URL", `${flag} ${value} has a query or fragment`, "Give the URL without ?query or #fragment.");
    return parsed;
  };
  url(issuer, "--oauth-issuer");
  const publicUrl = flags.publicUrl ?? env.MCP_ROUTER_PUBLIC_URL?.trim();
  if (publicUrl) url(publicUrl, "--public-url");
  else if (!isLoopback(flags.host)) {
    throw new ConfigError("OAUTH_NEEDS_PUBLIC_URL", `--oauth-issuer on ${flags.host} needs --public-url`, "Tokens are issued for the URL clients use (e.g. --public-url https://mcp.example.com); the bound address is not it.");
  }
  const scopes = flags.oauthScope ?? splitList(env.MCP_ROUTER_OAUTH_SCOPES);
  return { issuer, groupsClaim: flags.oauthGroupsClaim, ...(scopes.length ? { requiredScopes: scopes } : {}), ...(publicUrl ? { publicUrl } : {}) };
}

export function registerGatewayCommands(program: Command, ctx: CliContext): void {
  const serve = program
    .command("serve")
    .description("serve every registry server through one MCP endpoint over HTTP (Streamable HTTP /mcp, legacy SSE /sse)")
    .option("--registry <dir>", "registry folder", defaultRegistry(ctx))
    .option("--host <host>", "address to bind", "127.0.0.1")
    .option("--port <port>", "port to listen on (0 = any free port)", "8808")
    .option("--data-dir <dir>", "where catalogs, prepared packages and the generated API key live", defaultDataDir(ctx))
    .option("--api-key <key...>", "accepted bearer key(s) (prefer MCP_ROUTER_API_KEYS or --api-keys-file: argv is visible to local users)")
    .option("--api-keys-file <file>", "file with accepted bearer keys, one per line")
    .option("--no-auth", "accept requests without a bearer key (only on a loopback bind)")
    .option("--oauth-issuer <url>", "also accept OAuth access tokens (JWTs) from this authorization server, found by its metadata (also MCP_ROUTER_OAUTH_ISSUER); API keys keep working")
    .option("--oauth-scope <scope...>", "scopes every access token must carry (403 insufficient_scope otherwise; also MCP_ROUTER_OAUTH_SCOPES)")
    .option("--oauth-groups-claim <claim>", "the token claim with the caller's groups or roles, for the access policy", "groups")
    .option("--public-url <url>", "the gateway's URL as clients reach it (behind a proxy): token audience and Protected Resource Metadata are built from it (also MCP_ROUTER_PUBLIC_URL)")
    .option("--allow-origin <origin...>", "extra allowed Origin values (browser clients)")
    .option("--allow-host <host...>", "extra allowed Host header values (needed behind a proxy or on a wildcard bind)")
    .option("--max-sessions <n>", "most client sessions held at once (Streamable HTTP and SSE together); one more gets 503 with Retry-After", "1000")
    .option("--session-idle-seconds <seconds>", "close a Streamable HTTP session after this long without a request or an open stream (0 = never)", "600")
    .option("--no-console", "do not serve the web console at / (its page, files and API)")
    .option("--console-idle-minutes <minutes>", "end a console session after this long without use", "30")
    .option("--trust-proxy", "a proxy in front terminates TLS: believe its X-Forwarded-Proto (the console's cookie is then Secure)")
    .option("--hierarchical", "expose list_servers, list_tools, search_tools and call_tool instead of every tool")
    .option("--git <url>", "follow a registry in a git remote instead of --registry (cloned into the data dir)")
    .option("--branch <branch>", "branch of --git to follow", "main")
    .option("--git-subdir <dir>", "folder of the registry inside the git repository (holding servers/)")
    .option("--poll <seconds>", "how often to fetch --git (backs off on failures)", "30")
    .option("--webhook-secret <secret>", "enable POST /hooks/github, verified with this secret (prefer MCP_ROUTER_WEBHOOK_SECRET)")
    .addOption(new Option("--log-format <format>", "auto: readable lines and a ready summary on a terminal, JSON otherwise").choices(["auto", "json", "text"]).default("auto"))
    .addOption(new Option("--log-level <level>", "log level (default: info for JSON logs; error for text, where the ready summary tells what happened)").choices(["trace", "debug", "info", "warn", "error", "silent"]));
  addTracingOption(serve);
  addAuditOptions(serve, ", or `-` for stdout (also MCP_ROUTER_AUDIT_LOG)")
    .addHelpText(
      "after",
      "\nThe registry is followed: edits under --registry (or commits on --git's branch) are validated and\nswapped in without dropping calls; a broken file keeps its last good version serving. GET /status\nshows revisions and per-server conditions (`mcp-router status`). /readyz is 200 once every server finished\nits first prepare attempt (live or failed), or 2 minutes after the first table, whichever comes first.\nGET /metrics serves Prometheus metrics (with the same bearer key).",
    )
    .action(async (opts: ServeOptions) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError("BAD_PORT", `--port ${opts.port} is not a port number`, "Pass 0..65535.");
      const maxSessions = Number(opts.maxSessions);
      if (!(Number.isInteger(maxSessions) && maxSessions >= 1)) throw new ConfigError("BAD_MAX_SESSIONS", `--max-sessions ${opts.maxSessions} is not a positive whole number`, "Pass e.g. --max-sessions 1000.");
      const sessionIdleSeconds = Number(opts.sessionIdleSeconds);
      if (!(sessionIdleSeconds >= 0)) throw new ConfigError("BAD_SESSION_IDLE", `--session-idle-seconds ${opts.sessionIdleSeconds} is not a number of seconds`, "Pass e.g. --session-idle-seconds 600, or 0 to keep idle sessions.");
      const consoleIdleMinutes = Number(opts.consoleIdleMinutes);
      if (!(consoleIdleMinutes > 0)) throw new ConfigError("BAD_CONSOLE_IDLE", `--console-idle-minutes ${opts.consoleIdleMinutes} is not a positive number of minutes`, "Pass e.g. --console-idle-minutes 30.");
      const pollSeconds = Number(opts.poll);
      if (!(pollSeconds > 0)) throw new ConfigError("BAD_POLL", `--poll ${opts.poll} is not a positive number of seconds`, "Pass e.g. --poll 30.");
      let apiKeys: string[] | undefined;
      let keySource = "";
      if (opts.auth) {
        const given = [...splitList(ctx.env.MCP_ROUTER_API_KEYS), ...(opts.apiKey ?? []), ...(opts.apiKeysFile ? parseKeyFile(await readFile(opts.apiKeysFile, "utf8")) : [])];
        const resolved = await resolveApiKeys(given, opts.dataDir);
        apiKeys = resolved.keys;
        keySource = resolved.source;
        if (resolved.generated) {
          ctx.stderr.write(
            `\nGenerated an API key (stored in ${resolved.generated.file}, mode 0600; shown only this once):\n\n  ${resolved.generated.key}\n\nClients send it as: Authorization: Bearer <key>\n\n`,
          );
        }
      } else if (!isLoopback(opts.host)) {
        throw new ConfigError("NO_AUTH_NOT_LOOPBACK", `--no-auth is refused on ${opts.host}`, "Bind to 127.0.0.1 for --no-auth, or keep auth on.");
      }
      const oauth = oauthConfig(opts, ctx.env);
      const text = opts.logFormat === "text" || (opts.logFormat === "auto" && ctx.stderr.isTTY === true);
      const webhookSecret = opts.webhookSecret ?? ctx.env.MCP_ROUTER_WEBHOOK_SECRET;
      const audit = auditConfig(opts, ctx, true);
      const tracing = tracingConfig(opts, ctx.env);
      const { startDaemon } = await import("../daemon/start-daemon.js");
      const daemon = await startDaemon({
        registry: opts.git ? { git: opts.git, branch: opts.branch, ...(opts.gitSubdir ? { subdir: opts.gitSubdir } : {}), pollSeconds } : { dir: opts.registry },
        dataDir: opts.dataDir,
        secrets: await secretSource(ctx, globalOptionsOf(program)),
        policy: await operatorPolicy(ctx, globalOptionsOf(program).policy),
        log: { level: opts.logLevel ?? (text ? "error" : "info"), format: text ? "text" : "json" },
        http: {
          host: opts.host,
          port,
          apiKeys,
          ...(oauth ? { oauth } : {}),
          ...(opts.allowOrigin ? { allowedOrigins: opts.allowOrigin } : {}),
          ...(opts.allowHost ? { allowedHosts: opts.allowHost } : {}),
          maxSessions,
          sessionIdleMs: sessionIdleSeconds * 1000,
          console: opts.console ? { idleMs: consoleIdleMinutes * 60_000, ...(opts.trustProxy ? { trustProxy: true } : {}), ...(opts.git ? {} : { desktop: desktopSnippet(ctx, opts.registry) }), proposer: proposerSettings(ctx.env) } : false,
        },
        ...(opts.hierarchical ? { hierarchical: true } : {}),
        ...(webhookSecret ? { webhookSecret } : {}),
        ...(audit ? { audit } : {}),
        ...(tracing ? { tracing } : {}),
        docker: dockerSettings(ctx.env),
      });
      if (apiKeys) daemon.logger.info({ keys: apiKeys.length, source: keySource }, "bearer auth on");
      else daemon.logger.warn("auth is OFF (--no-auth): any local process can use the gateway");
      if (text) {
        const { readyReporter } = await import("../daemon/ready-report.js");
        const report = readyReporter((line) => ctx.stderr.write(`${line}\n`));
        daemon.sync.onStatus((status) => report.observe(status));
      }
      const url = daemon.url!;
      ctx.stderr.write(`mcp-router listening: ${new URL("mcp", url).href} (Streamable HTTP), ${new URL("sse", url).href} (SSE), ${new URL("status", url).href}${opts.console ? `, ${url.href} (web console)` : ""}\n`);
      ctx.onShutdown(() => daemon.close());
    });

  const stdioCommand = program
    .command("stdio")
    .description("serve every registry server as one MCP server over stdio (for Claude Desktop); logs go to stderr")
    .option("--registry <dir>", "registry folder", defaultRegistry(ctx))
    .option("--data-dir <dir>", "where catalogs and prepared packages live", defaultDataDir(ctx))
    .option("--hierarchical", "expose list_servers, list_tools, search_tools and call_tool instead of every tool")
    .addOption(new Option("--log-level <level>", "log level (stderr)").choices(["trace", "debug", "info", "warn", "error", "silent"]).default("warn"));
  addTracingOption(stdioCommand);
  addAuditOptions(stdioCommand, " (not `-`: stdout carries the protocol here; also MCP_ROUTER_AUDIT_LOG)")
    .action(async (opts: StdioOptions) => {
      const audit = auditConfig(opts, ctx, false);
      const tracing = tracingConfig(opts, ctx.env);
      const { startDaemon } = await import("../daemon/start-daemon.js");
      const daemon = await startDaemon({
        registry: { dir: opts.registry },
        dataDir: opts.dataDir,
        secrets: await secretSource(ctx, globalOptionsOf(program)),
        policy: await operatorPolicy(ctx, globalOptionsOf(program).policy),
        log: { level: opts.logLevel },
        stdio: { stdin: ctx.stdin, stdout: ctx.stdout },
        ...(opts.hierarchical ? { hierarchical: true } : {}),
        ...(audit ? { audit } : {}),
        ...(tracing ? { tracing } : {}),
        docker: dockerSettings(ctx.env),
      });
      ctx.onShutdown(() => daemon.close());
      await daemon.done;
      await daemon.close();
    });

  program
    .command("desktop-config")
    .description("print the Claude Desktop entry that starts `mcp-router stdio`, or merge it into claude_desktop_config.json")
    .option("--install", "merge the entry into Claude Desktop's config (other entries kept, a backup written)")
    .option("--name <name>", "entry name under mcpServers", "mcp-router")
    .option("--registry <dir>", "registry folder the entry serves (made absolute)")
    .option("--data-dir <dir>", "data dir the entry uses")
    .option("--hierarchical", "start the gateway in hierarchical mode")
    .option("--config <file>", "config file to merge into", desktopConfigPath(ctx.platform, ctx.env, ctx.homedir))
    .action(async (opts: { install?: boolean; name: string; registry?: string; dataDir?: string; hierarchical?: boolean; config: string }) => {
      const entry: DesktopEntry = {
        command: ctx.selfCommand.command,
        args: [
          ...ctx.selfCommand.args,
          "stdio",
          "--registry",
          path.resolve(opts.registry ?? defaultRegistry(ctx)),
          ...(opts.dataDir ? ["--data-dir", path.resolve(opts.dataDir)] : []),
          ...(opts.hierarchical ? ["--hierarchical"] : []),
        ],
      };
      if (!opts.install) {
        ctx.stdout.write(mergeDesktopConfig(undefined, opts.name, entry));
        ctx.stderr.write(`Add this under "mcpServers" in ${opts.config}, or run again with --install.\n`);
        return;
      }
      const result = await installDesktopConfig(opts.config, opts.name, entry);
      ctx.stderr.write(`Updated ${result.file}${result.backup ? ` (backup: ${result.backup})` : ""}. Restart Claude Desktop to load it.\n`);
    });
}

/**
 * The console's Connect page: the Claude Desktop entry that runs `mcp-router stdio` on the same
 * registry folder (a git registry has no folder to point it at), and the command that installs it.
 */
function desktopSnippet(ctx: CliContext, registry: string): { config: string; install: string } {
  const registryDir = path.resolve(registry);
  // The same entry `mcp-router desktop-config --registry <dir>` prints.
  const entry: DesktopEntry = { command: ctx.selfCommand.command, args: [...ctx.selfCommand.args, "stdio", "--registry", registryDir] };
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);
  return { config: mergeDesktopConfig(undefined, "mcp-router", entry), install: ["mcp-router", "desktop-config", "--install", "--registry", registryDir].map(quote).join(" ") };
}

/** What the console's "Add a server" proposes with: the same environment `mcp-router propose` reads. */
function proposerSettings(env: CliContext["env"]): ProposerSettings {
  const get = (name: string) => env[name]?.trim() || undefined;
  const [githubToken, githubApiUrl, anthropicApiKey, anthropicBaseUrl] = [get("GITHUB_TOKEN"), get("GITHUB_API_URL"), get("ANTHROPIC_API_KEY"), get("ANTHROPIC_BASE_URL")];
  return { ...(githubToken ? { githubToken } : {}), ...(githubApiUrl ? { githubApiUrl } : {}), ...(anthropicApiKey ? { anthropicApiKey } : {}), ...(anthropicBaseUrl ? { anthropicBaseUrl } : {}) };
}

/** The program-wide options: --secrets-file, --secrets-dir, --policy. */
function globalOptionsOf(program: Command): GlobalOptions {
  return program.opts() as GlobalOptions;
}
