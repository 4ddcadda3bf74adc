/**
 * What the commands get from the process, handed over by src/bin.ts (the only file that touches
 * `process`): environment, streams, paths and the shutdown hook. Tests build one with their own
 * streams and call the commands in-process. Plus the settings every command derives from it.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import type { DockerSettings } from "../daemon/create-launcher.js";
import type { SecretSource } from "../secrets/secret-source.js";

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

/** The secrets file (--secrets-file or MCP_ROUTER_SECRETS_FILE), if any, over the environment. */
export async function secretSource(ctx: CliContext, secretsFile: string | undefined): Promise<SecretSource> {
  const { chainSecretSources, envSecretSource, fileSecretSource } = await import("../secrets/secret-source.js");
  const file = secretsFile ?? ctx.env.MCP_ROUTER_SECRETS_FILE;
  const env = envSecretSource(ctx.env as Record<string, string | undefined>);
  return file ? chainSecretSources(fileSecretSource(file), env) : env;
}

/** The level for one-shot commands' logs (stderr): LOG_LEVEL, else warn. */
export function commandLogLevel(ctx: CliContext): string {
  return ctx.env.LOG_LEVEL ?? "warn";
}
