/**
 * The command tree. Each command registers its flags here and imports its heavy parts (the MCP
 * SDK, dockerode, the GitHub and Anthropic clients, the daemon) only when it runs, so `status`,
 * `validate` and `--help` start in a fraction of a second. Tests call `runCli` in-process.
 */
import { Command, CommanderError } from "commander";
import { VERSION } from "../version.js";
import type { CliContext } from "./context.js";
import { commandLogLevel, defaultDataDir, defaultRegistry, dockerSettings, operatorPolicy, secretSource, splitList } from "./context.js";
import type { GlobalOptions } from "./context.js";
import { registerLaunchCommands } from "./launch-commands.js";
import { registerProposeCommands } from "./propose-command.js";
import { CliError, findServer, registerRegistryCommands } from "./registry-commands.js";
import { registerReviewCommand } from "./review-command.js";
import { registerGatewayCommands } from "./serve-commands.js";
import { registerSyncCommands } from "./status-command.js";

/** The exit status a command asked for, if any (read by runCli). */
export interface ExitStatus {
  code: number | undefined;
}

export function buildProgram(ctx: CliContext, exit: ExitStatus = { code: undefined }): Command {
  const setExitCode = (code: number): void => {
    exit.code = code;
  };
  const program = new Command("mcp-router")
    .description("GitOps gateway for MCP servers: a reviewed registry, one endpoint, a fresh container per call.")
    .version(VERSION)
    .showHelpAfterError()
    .configureOutput({ writeOut: (t) => void ctx.stdout.write(t), writeErr: (t) => void ctx.stderr.write(t) })
    .addHelpText(
      "after",
      "\nRegistry files live in <registry>/servers/<prefix>.yaml; see the README for the format.\nRun `mcp-router <command> --help` for a command's options.",
    );
  program
    .option("--secrets-file <file>", "secret values granted to servers: KEY=VALUE lines or a JSON object (also MCP_ROUTER_SECRETS_FILE)")
    .option("--secrets-dir <dir>", "a folder with one file per granted secret, named after it, e.g. /run/secrets (also MCP_ROUTER_SECRETS_DIR)")
    .option("--policy <file>", "the operator policy: which mounts, egress, private targets, limits and lifecycles registry files may use (also MCP_ROUTER_POLICY; default: the strictest, see SECURITY.md)")
    .addHelpText(
      "after",
      "\nSecrets: servers get only what is granted: --secrets-file, --secrets-dir, or MCP_ROUTER_SECRET_<NAME> environment variables.\nEnvironment: MCP_ROUTER_DATA (data dir), MCP_ROUTER_API_KEYS (bearer keys for serve), MCP_ROUTER_SECRETS_FILE, MCP_ROUTER_SECRETS_DIR, MCP_ROUTER_POLICY,\nMCP_ROUTER_NODE_IMAGE / MCP_ROUTER_PYTHON_IMAGE (base images for npm / PyPI servers), MCP_ROUTER_OWNER (container owner label),\nMCP_ROUTER_WARM_POOL=off (no pre-started containers), MCP_ROUTER_WEBHOOK_SECRET, MCP_ROUTER_URL (for status),\nMCP_ROUTER_AUDIT_LOG (file or - for stdout), MCP_ROUTER_BUILD_ARGS (KEY=VALUE,... for router.build images), LOG_LEVEL.",
    );

  /** The program-wide options (`--secrets-file`, `--secrets-dir`, `--policy`), as given before or after the command. */
  const globalOptions = () => program.opts() as GlobalOptions;

  /** The launcher of one-shot commands (`call`, `tools`, `propose --verify`): the daemon's, logging at LOG_LEVEL. */
  const oneShotLauncher = async () => {
    const [{ createLauncher }, { createLogger }] = await Promise.all([import("../daemon/create-launcher.js"), import("../daemon/create-logger.js")]);
    const logger = createLogger({ level: commandLogLevel(ctx) });
    const secrets = await secretSource(ctx, globalOptions());
    const policy = await operatorPolicy(ctx, globalOptions().policy);
    return createLauncher({ logger, secrets, dataDir: defaultDataDir(ctx), docker: dockerSettings(ctx.env), privateTargets: policy.network.privateTargets });
  };

  registerRegistryCommands(program, {
    defaultRegistry: defaultRegistry(ctx),
    stdout: (t) => ctx.stdout.write(t),
    stderr: (t) => ctx.stderr.write(t),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of ctx.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    },
    githubActions: ctx.env.GITHUB_ACTIONS === "true",
    setExitCode,
    policy: () => operatorPolicy(ctx, globalOptions().policy),
  });

  registerReviewCommand(program, {
    stdout: (t) => ctx.stdout.write(t),
    setExitCode,
    policy: () => operatorPolicy(ctx, globalOptions().policy),
  });

  registerLaunchCommands(program, {
    resolveServer: async (prefix) => {
      const { loadRegistry } = await import("../registry/loader.js");
      const [policy, secrets, { secretGrants }] = await Promise.all([operatorPolicy(ctx, globalOptions().policy), secretSource(ctx, globalOptions()), import("../secrets/secret-source.js")]);
      return findServer(await loadRegistry(defaultRegistry(ctx), { policy, grants: secretGrants(secrets) }), prefix);
    },
    createLauncher: oneShotLauncher,
    stdout: ctx.stdout,
    stderr: ctx.stderr,
    setExitCode,
    onShutdown: (handler) => ctx.onShutdown(handler),
  });

  registerGatewayCommands(program, ctx);

  registerSyncCommands(program, {
    defaultUrl: ctx.env.MCP_ROUTER_URL ?? "http://127.0.0.1:8808/",
    defaultDataDir: defaultDataDir(ctx),
    envApiKeys: splitList(ctx.env.MCP_ROUTER_API_KEYS),
    stdout: (t) => ctx.stdout.write(t),
    fetch,
    setExitCode,
  });

  registerProposeCommands(program, {
    stdout: (t) => ctx.stdout.write(t),
    stderr: (t) => ctx.stderr.write(t),
    env: ctx.env,
    setExitCode,
    createVerify: async () => {
      const launcher = await oneShotLauncher();
      const { launcherVerify } = await import("../propose/launcher-verify.js");
      return { verify: launcherVerify(launcher), close: () => launcher.close() };
    },
  });

  return program;
}

/** Runs one command line (`argv` without node and script); resolves with the exit code it asks for, printing errors with their hint. */
export async function runCli(argv: readonly string[], ctx: CliContext): Promise<number | undefined> {
  const exit: ExitStatus = { code: undefined };
  const program = buildProgram(ctx, exit).exitOverride();
  try {
    await program.parseAsync([...argv], { from: "user" });
    return exit.code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof CliError) {
      ctx.stderr.write(`mcp-router: ${err.message}\n`);
      return err.exitCode;
    }
    const e = err as Error & { hint?: string };
    ctx.stderr.write(`mcp-router: ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ""}\n`);
    return 1;
  }
}
