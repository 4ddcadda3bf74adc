/**
 * What the commands get from the process, handed over by src/bin.ts (the only file that touches
 * `process`): environment, streams, paths and the shutdown hook. Tests build one with their own
 * streams and call the commands in-process. Plus the settings every command derives from it.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import type { DockerSettings } from "../daemon/create-launcher.js";
import type { SecretSource } from "../secrets/secret-source.js";
import type { OperatorPolicy } from "../registry/policy.js";
import { ConfigError } from "../config-error.js";

/** The options every command shares (given before the command name). */
export interface GlobalOptions {
  secretsFile?: string;
  secretsDir?: string;
  policy?: string;
}

export interface CliContext {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  homedir: string;
  platform: NodeJS.Platform;
  stdin: Readable;
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  /** The registry shipped with mcp-router (`registry/` beside the package), if there is one. */
  bundledRegistry: string | undefined;
  /** How another program (Claude Desktop) starts this CLI. */
  selfCommand: { command: string; args: string[] };
  /** Runs `handler` on SIGINT, SIGTERM or SIGHUP, then exits. */
  onShutdown(handler: () => Promise<void>): void;
}

/** `./registry` when the working directory has one, else the bundled registry. */
export function defaultRegistry(ctx: CliContext): string {
  if (existsSync(path.join(ctx.cwd, "registry"))) return "registry";
  return ctx.bundledRegistry ?? "registry";
}

/** Where catalogs, prepared packages and the generated API key live. */
export function defaultDataDir(ctx: CliContext): string {
  return ctx.env.MCP_ROUTER_DATA ?? path.join(ctx.env.XDG_DATA_HOME ?? path.join(ctx.homedir, ".local", "share"), "mcp-router");
}

/** Comma- or space-separated values (MCP_ROUTER_API_KEYS). */
export function splitList(value: string | undefined): string[] {
  return (value ?? "").split(/[\s,]+/).filter(Boolean);
}

/** `MCP_ROUTER_BUILD_ARGS="BASE_IMAGE=local/python-sci:bookworm,X=Y"`: build args for `router.build` images. */
export function parseBuildArgs(value: string | undefined): Record<string, string> | undefined {
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

/** How containers run, from MCP_ROUTER_OWNER, _NODE_IMAGE, _PYTHON_IMAGE, _WARM_POOL and _BUILD_ARGS. */
export function dockerSettings(env: CliContext["env"]): DockerSettings {
  const buildArgs = parseBuildArgs(env.MCP_ROUTER_BUILD_ARGS);
  return {
    ...(env.MCP_ROUTER_OWNER ? { owner: env.MCP_ROUTER_OWNER } : {}),
    ...(env.MCP_ROUTER_NODE_IMAGE ? { nodeImage: env.MCP_ROUTER_NODE_IMAGE } : {}),
    ...(env.MCP_ROUTER_PYTHON_IMAGE ? { pythonImage: env.MCP_ROUTER_PYTHON_IMAGE } : {}),
    ...(env.MCP_ROUTER_WARM_POOL === "off" ? { pool: false } : {}),
    ...(buildArgs ? { buildArgs } : {}),
  };
}

/**
 * The daemon's secret store, first source first: the secrets file (--secrets-file or
 * MCP_ROUTER_SECRETS_FILE), the secrets folder (--secrets-dir or MCP_ROUTER_SECRETS_DIR), then
 * MCP_ROUTER_SECRET_<NAME> environment variables. Nothing else of the environment is granted.
 */
export async function secretSource(ctx: CliContext, options: { secretsFile?: string | undefined; secretsDir?: string | undefined } = {}): Promise<SecretSource> {
  const { chainSecretSources, dirSecretSource, envSecretSource, fileSecretSource } = await import("../secrets/secret-source.js");
  const file = options.secretsFile ?? ctx.env.MCP_ROUTER_SECRETS_FILE;
  const dir = options.secretsDir ?? ctx.env.MCP_ROUTER_SECRETS_DIR;
  return chainSecretSources(
    ...(file ? [fileSecretSource(file)] : []),
    ...(dir ? [dirSecretSource(dir)] : []),
    envSecretSource(ctx.env as Record<string, string | undefined>),
  );
}

/** The operator policy (--policy or MCP_ROUTER_POLICY), else the default (strictest) one. */
export async function operatorPolicy(ctx: CliContext, file: string | undefined): Promise<OperatorPolicy> {
  const { DEFAULT_POLICY, parsePolicy } = await import("../registry/policy.js");
  const chosen = file ?? ctx.env.MCP_ROUTER_POLICY;
  if (!chosen) return DEFAULT_POLICY;
  let text: string;
  try {
    text = await readFile(chosen, "utf8");
  } catch (error) {
    throw new ConfigError("POLICY_INVALID", `cannot read the operator policy ${chosen}: ${(error as NodeJS.ErrnoException).code ?? "error"}`, "Check the path given with --policy (or MCP_ROUTER_POLICY).");
  }
  return parsePolicy(text, chosen);
}

/** The level for one-shot commands' logs (stderr): LOG_LEVEL, else warn. */
export function commandLogLevel(ctx: CliContext): string {
  return ctx.env.LOG_LEVEL ?? "warn";
}
