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
import Docker from "dockerode";
import { pino } from "pino";
import type { Logger } from "pino";
import { registerGatewayCommands } from "./gateway/cli-gateway.js";
import { desktopConfigPath } from "./gateway/desktop-config.js";
import { scrubbingDestination, secretScrubber } from "./gateway/secret-scrubber.js";
import { registerLaunchCommands } from "./launch/cli-launch.js";
import { registerProposeCommands } from "./propose/cli-propose.js";
import { launcherVerify } from "./propose/launcher-verify.js";
import { resolveNodeBaseImage } from "./launch/base-image.js";
import { CompositeLauncher } from "./launch/composite-launcher.js";
import { DockerLauncher } from "./launch/docker-launcher.js";
import type { Launcher } from "./launch/launcher.js";
import { OpenApiLauncher } from "./launch/openapi-launcher.js";
import { RemoteLauncher } from "./launch/remote-launcher.js";
import { DEFAULT_BASE_IMAGES } from "./launch/package-preparer.js";
import { chainSecretSources, envSecretSource, fileSecretSource } from "./launch/secrets.js";
import type { SecretSource } from "./launch/secrets.js";
import { CliError, findServer, registerRegistryCommands } from "./registry/cli-registry.js";
import { formatDiagnostic } from "./registry/diagnostic.js";
import { loadRegistry } from "./registry/loader.js";
import type { RegistryServer } from "./registry/types.js";
import { registerSyncCommands } from "./sync/cli-sync.js";
import { startRegistrySync } from "./sync/registry-sync.js";

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
function stderrLogger(level: string, secretValues: () => readonly string[] = () => []): Logger {
  return pino(
    { level, base: { pid: process.pid }, redact: { paths: ["apiKey", "apiKeys", "authorization", "*.authorization", "secrets"], censor: "***" } },
    scrubbingDestination(pino.destination(2), secretScrubber(secretValues)),
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
  let secretSource: SecretSource | undefined;
  const secrets = (): SecretSource => {
    if (!secretSource) {
      const file = (program.opts() as { secretsFile?: string }).secretsFile ?? process.env.MCP_ROUTER_SECRETS_FILE;
      secretSource = file ? chainSecretSources(fileSecretSource(file), envSecretSource(process.env)) : envSecretSource(process.env);
    }
    return secretSource;
  };

  const createLauncher = async (opts: { dataDir?: string; logger?: Logger } = {}): Promise<Launcher> => {
    const logger = opts.logger ?? stderrLogger(process.env.LOG_LEVEL ?? "warn");
    const buildArgs = parseBuildArgs(process.env.MCP_ROUTER_BUILD_ARGS);
    const docker = await createDockerLauncher(secrets(), logger, opts.dataDir ?? defaultDataDir(), buildArgs).catch((error: Error & { hint?: string }) => {
      logger.warn({ hint: error.hint }, `${error.message}: container servers will not start until it does`);
      return undefined;
    });
    return new CompositeLauncher({
      ...(docker ? { docker } : {}),
      remote: new RemoteLauncher({ secrets: secrets(), logger }),
      openapi: new OpenApiLauncher({ secrets: secrets(), logger }),
    });
  };

  const createDockerLauncher = async (secrets: SecretSource, logger: Logger, dataDir: string, buildArgs: Record<string, string> | undefined): Promise<DockerLauncher> => {
    const docker = new Docker();
    await docker.ping().catch((error: Error) => {
      throw Object.assign(new Error(`no Docker engine answers (${error.message})`), {
        hint: "Start Docker (Debian: `bash .ci/docker-up.sh` installs and starts one), or point DOCKER_HOST at a running engine.",
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
    resolveServer: async (prefix) => findServer(await loadRegistry(defaultRegistry()), prefix),
    createLauncher: () => createLauncher(),
  });

  registerGatewayCommands(program, {
    followRegistry: (options) => startRegistrySync(options),
    ...(process.env.MCP_ROUTER_WEBHOOK_SECRET ? { envWebhookSecret: process.env.MCP_ROUTER_WEBHOOK_SECRET } : {}),
    defaultRegistry: defaultRegistry(),
    defaultDataDir: defaultDataDir(),
    envApiKeys: splitList(process.env.MCP_ROUTER_API_KEYS),
    createLogger: stderrLogger,
    secretSource: {
      get description() {
        return secrets().description;
      },
      get: (name: string) => secrets().get(name),
    },
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
