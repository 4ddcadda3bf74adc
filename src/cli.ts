#!/usr/bin/env node
/**
 * The composition root: the only place that reads argv and the environment and builds
 * concrete objects. Every command lives with the job it belongs to.
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import type { Logger } from "pino";
import { registerGatewayCommands } from "./gateway/cli-gateway.js";
import { desktopConfigPath } from "./gateway/desktop-config.js";
import type { Launcher } from "./launch/launcher.js";
import type { SecretSource } from "./launch/secrets.js";
import { registerLaunchCommands } from "./launch/cli-launch.js";
import { registerProposeCommands } from "./propose/cli-propose.js";
import { CliError, findServer, registerRegistryCommands } from "./registry/cli-registry.js";
import type { RegistryServer } from "./registry/types.js";
import { registerSyncCommands } from "./sync/cli-sync.js";

// Only what every command needs is imported above: the heavy parts (the MCP SDK, dockerode,
// pino, the launchers) are imported by the commands that use them, so `status`, `validate` and
// `--help` start in a fraction of a second.

/** `./registry` when the working directory has one, else the registry bundled with mcp-router. */
function defaultRegistry(): string {
  if (existsSync(path.join(process.cwd(), "registry"))) return "registry";
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const up of ["..", "../.."]) {
    const bundled = path.resolve(here, up, "registry");
    if (existsSync(bundled)) return bundled;
  }
  return "registry";
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Where catalogs, prepared packages and the generated API key live. */
function defaultDataDir(): string {
  return process.env.MCP_ROUTER_DATA ?? path.join(process.env.XDG_DATA_HOME ?? path.join(homedir(), ".local", "share"), "mcp-router");
}

/**
 * The daemon's logger: JSON to stderr (stdout carries protocol in stdio mode, results otherwise),
 * with every known secret value replaced by `***` before a line is written.
 */
async function stderrLogger(level: string, secretValues: () => readonly string[] = () => [], format: "json" | "text" = "json"): Promise<Logger> {
  const [{ pino }, { scrubbingDestination, secretScrubber }, { textDestination }] = await Promise.all([
    import("pino"),
    import("./gateway/secret-scrubber.js"),
    import("./daemon/text-log.js"),
  ]);
  const stderr = pino.destination(2);
  return pino(
    { level, base: { pid: process.pid }, redact: { paths: ["apiKey", "apiKeys", "authorization", "*.authorization", "secrets"], censor: "***" } },
    scrubbingDestination(format === "text" ? textDestination(stderr) : stderr, secretScrubber(secretValues)),
  );
}

/** How another program (Claude Desktop) starts this CLI: node + this script (via tsx in a checkout). */
function selfCommand(): { command: string; args: string[] } {
  const script = fileURLToPath(import.meta.url);
  if (script.endsWith(".ts")) return { command: process.execPath, args: ["--import", import.meta.resolve("tsx"), script] };
  return { command: process.execPath, args: [script] };
}

/** `MCP_ROUTER_BUILD_ARGS="BASE_IMAGE=local/python-sci:bookworm,X=Y"`: build args for `router.build` images. */
function parseBuildArgs(value: string | undefined): Record<string, string> | undefined {
  if (!value?.trim()) return undefined;
  const args: Record<string, string> = {};
  for (const item of value.split(/[,\n]/)) {
    const text = item.trim();
    if (!text) continue;
    const eq = text.indexOf("=");
    if (eq <= 0) {
      throw Object.assign(new Error(`MCP_ROUTER_BUILD_ARGS: ${JSON.stringify(text)} is not NAME=VALUE`), {
        hint: "Write NAME=VALUE pairs separated by commas, e.g. MCP_ROUTER_BUILD_ARGS=BASE_IMAGE=local/python-sci:bookworm",
      });
    }
    args[text.slice(0, eq).trim()] = text.slice(eq + 1).trim();
  }
  return args;
}

function splitList(value: string | undefined): string[] {
  return (value ?? "").split(/[\s,]+/).filter(Boolean);
}

export function buildProgram(): Command {
  const program = new Command("mcp-router")
    .description("GitOps gateway for MCP servers: a reviewed registry, one endpoint, a fresh container per call.")
    .version("0.1.0")
    .showHelpAfterError()
    .addHelpText(
      "after",
      "\nRegistry files live in <registry>/servers/<prefix>.yaml; see the README for the format.\nRun `mcp-router <command> --help` for a command's options.",
    );
  program
    .option("--secrets-file <file>", "KEY=VALUE lines or a JSON object of secret values for servers (also MCP_ROUTER_SECRETS_FILE); the environment is used too")
    .addHelpText(
      "after",
      "\nEnvironment: MCP_ROUTER_DATA (data dir), MCP_ROUTER_API_KEYS (bearer keys for serve), MCP_ROUTER_SECRETS_FILE,\nMCP_ROUTER_NODE_IMAGE / MCP_ROUTER_PYTHON_IMAGE (base images for npm / PyPI servers), MCP_ROUTER_OWNER (container owner label),\nMCP_ROUTER_WARM_POOL=off (no pre-started containers), MCP_ROUTER_WEBHOOK_SECRET, MCP_ROUTER_URL (for status),\nMCP_ROUTER_AUDIT_LOG (file or - for stdout), MCP_ROUTER_BUILD_ARGS (KEY=VALUE,... for router.build images), LOG_LEVEL.",
    );

  /**
   * Every kind of server behind one Launcher: containers (Docker), remotes, OpenAPI. Without a
   * Docker engine the other kinds still work; container servers then fail to prepare, saying so.
   */
  /** The secret source: the secrets file (if any) over the environment. Built once options are parsed. */
  let secretSource: Promise<SecretSource> | undefined;
  const secrets = (): Promise<SecretSource> =>
    (secretSource ??= import("./launch/secrets.js").then(({ chainSecretSources, envSecretSource, fileSecretSource }) => {
      const file = (program.opts() as { secretsFile?: string }).secretsFile ?? process.env.MCP_ROUTER_SECRETS_FILE;
      return file ? chainSecretSources(fileSecretSource(file), envSecretSource(process.env)) : envSecretSource(process.env);
    }));

  /**
   * Every kind of server behind one Launcher: containers (Docker), remotes, OpenAPI. Without a
   * Docker engine the other kinds still work; container servers fail to prepare, saying what to
   * do, and an engine that comes up later is picked up by the next prepare retry.
   */
  const createLauncher = async (opts: { dataDir?: string; logger?: Logger } = {}): Promise<Launcher> => {
    const logger = opts.logger ?? (await stderrLogger(process.env.LOG_LEVEL ?? "warn"));
    const buildArgs = parseBuildArgs(process.env.MCP_ROUTER_BUILD_ARGS);
    const [{ CompositeLauncher }, { DeferredLauncher }, { RemoteLauncher }, { OpenApiLauncher }] = await Promise.all([
      import("./launch/composite-launcher.js"),
      import("./launch/deferred-launcher.js"),
      import("./launch/remote/remote-launcher.js"),
      import("./launch/openapi/openapi-launcher.js"),
    ]);
    const secretSource = await secrets();
    const docker = await new DeferredLauncher({
      create: () => createDockerLauncher(secretSource, logger, opts.dataDir ?? defaultDataDir(), buildArgs),
      onRecovered: () => logger.info("a Docker engine answers now: container servers are being prepared"),
    }).start();
    const reason = docker.unavailableReason;
    if (reason) logger.warn({ hint: reason.hint }, `${reason.message.split(" (ENGINE_UNAVAILABLE)")[0]}: container servers start once it does`);
    return new CompositeLauncher({
      docker,
      remote: new RemoteLauncher({ secrets: secretSource, logger }),
      openapi: new OpenApiLauncher({ secrets: secretSource, logger }),
    });
  };

  const createDockerLauncher = async (secrets: SecretSource, logger: Logger, dataDir: string, buildArgs: Record<string, string> | undefined): Promise<Launcher> => {
    const [{ default: Docker }, { DockerLauncher }, { resolveNodeBaseImage }, { DEFAULT_BASE_IMAGES }] = await Promise.all([
      import("dockerode"),
      import("./launch/docker/docker-launcher.js"),
      import("./launch/docker/base-image.js"),
      import("./launch/docker/package-preparer.js"),
    ]);
    const docker = new Docker();
    await docker.ping().catch((error: Error) => {
      throw Object.assign(new Error(`no Docker engine answers (${error.message})`), {
        hint: "Start Docker (Debian: `bash .ci/docker-up.sh` installs and starts one) or point DOCKER_HOST at a running engine; the daemon picks it up without a restart.",
      });
    });
    // An explicit image is used as given; the default falls back to one made from this machine's node when it cannot be pulled.
    const node = process.env.MCP_ROUTER_NODE_IMAGE ?? (await resolveNodeBaseImage(docker, DEFAULT_BASE_IMAGES.node, logger));
    return DockerLauncher.create({
      docker,
      logger,
      secrets,
      dataDir,
      baseImages: { node, ...(process.env.MCP_ROUTER_PYTHON_IMAGE ? { python: process.env.MCP_ROUTER_PYTHON_IMAGE } : {}) },
      ...(process.env.MCP_ROUTER_OWNER ? { owner: process.env.MCP_ROUTER_OWNER } : {}),
      ...(process.env.MCP_ROUTER_WARM_POOL === "off" ? { pool: false as const } : {}),
      ...(buildArgs ? { buildArgs } : {}),
    });
  };

  const loadServers = async (registry: string, logger: Logger): Promise<RegistryServer[]> => {
    const [{ loadRegistry }, { formatDiagnostic }] = await Promise.all([import("./registry/loader.js"), import("./registry/diagnostic.js")]);
    const load = await loadRegistry(registry);
    for (const d of load.diagnostics) logger.warn({ file: d.file }, `registry file skipped: ${formatDiagnostic(d)}`);
    return load.servers;
  };

  registerRegistryCommands(program, {
    defaultRegistry: defaultRegistry(),
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    readStdin,
    githubActions: process.env.GITHUB_ACTIONS === "true",
  });

  registerLaunchCommands(program, {
    resolveServer: async (prefix) => {
      const { loadRegistry } = await import("./registry/loader.js");
      return findServer(await loadRegistry(defaultRegistry()), prefix);
    },
    createLauncher: () => createLauncher(),
  });

  registerGatewayCommands(program, {
    followRegistry: async (options) => (await import("./sync/registry-sync.js")).startRegistrySync(options),
    ...(process.env.MCP_ROUTER_WEBHOOK_SECRET ? { envWebhookSecret: process.env.MCP_ROUTER_WEBHOOK_SECRET } : {}),
    defaultRegistry: defaultRegistry(),
    defaultDataDir: defaultDataDir(),
    envApiKeys: splitList(process.env.MCP_ROUTER_API_KEYS),
    createLogger: stderrLogger,
    secretSource: secrets,
    ...(process.env.MCP_ROUTER_AUDIT_LOG ? { envAuditLog: process.env.MCP_ROUTER_AUDIT_LOG } : {}),
    createLauncher: (opts) => createLauncher(opts),
    loadServers,
    selfCommand: selfCommand(),
    desktopConfigPath: desktopConfigPath(process.platform, process.env, homedir()),
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    onShutdown: (handler) => {
      let running = false;
      const run = (): void => {
        if (running) return;
        running = true;
        handler().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once("SIGINT", run);
      process.once("SIGTERM", run);
    },
  });

  registerSyncCommands(program, {
    defaultUrl: process.env.MCP_ROUTER_URL ?? "http://127.0.0.1:8808/",
    defaultDataDir: defaultDataDir(),
    envApiKeys: splitList(process.env.MCP_ROUTER_API_KEYS),
    stdout: (t) => process.stdout.write(t),
    fetch,
  });

  registerProposeCommands(program, {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
    createVerify: async () => {
      const launcher = await createLauncher();
      const { launcherVerify } = await import("./propose/launcher-verify.js");
      return { verify: launcherVerify(launcher), close: () => launcher.close() };
    },
  });

  return program;
}

async function main(): Promise<void> {
  const program = buildProgram().exitOverride();
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    if (err instanceof CliError) {
      console.error(`mcp-router: ${err.message}`);
      process.exitCode = err.exitCode;
      return;
    }
    const e = err as Error & { hint?: string };
    console.error(`mcp-router: ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ""}`);
    process.exitCode = 1;
  }
}

await main();
