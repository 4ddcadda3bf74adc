import type { Command } from "commander";
import type { RegistryServer } from "../registry/types.js";
import type { Launcher } from "../launch/launcher.js";
// The MCP client (call-tool.js) is imported when a command runs.

export interface LaunchCommandDeps {
  /** Resolves a server prefix to its validated registry entry (throws with a clear message when unknown). */
  resolveServer(prefix: string): Promise<RegistryServer> | RegistryServer;
  /** Builds the launcher (the composition root owns Docker, secrets, logger). Closed after each command. */
  createLauncher(): Promise<Launcher> | Launcher;
  /** Where the JSON result goes. */
  stdout: { write(text: string): unknown };
  /** Where progress goes. */
  stderr: { write(text: string): unknown };
  /** Runs a handler on SIGINT/SIGTERM before the process exits. */
  onShutdown?(handler: () => Promise<void>): void;
  /** The command's exit status: 1 when the tool answered with an error result. */
  setExitCode?(code: number): void;
}

function badArgs(message: string): Error {
  return Object.assign(new Error(message), { hint: `Pass a JSON object, e.g. --args '{"message":"hi"}'.` });
}

function parseArgs(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badArgs("--args is not valid JSON");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw badArgs("--args must be a JSON object");
  }
  return parsed as Record<string, unknown>;
}

/** `mcp-router call <server> <tool> [--args JSON]` and `mcp-router tools <server>`: one request through the launcher. */
export function registerLaunchCommands(program: Command, deps: LaunchCommandDeps): void {
  const { stdout: out, stderr: err } = deps;

  async function withLauncher<T>(prefix: string, fn: (launcher: Launcher, server: RegistryServer) => Promise<T>): Promise<T> {
    const server = await deps.resolveServer(prefix);
    const launcher = await deps.createLauncher();
    // Ctrl-C while a container runs: close the launcher (its containers go) before exiting.
    deps.onShutdown?.(() => launcher.close());
    try {
      await launcher.prepare(server, (message) => err.write(`${message}\n`));
      return await fn(launcher, server);
    } finally {
      await launcher.close();
    }
  }

  program
    .command("call")
    .description("Run one tool call of a server in a fresh container and print the JSON result")
    .argument("<server>", "server prefix (router.prefix)")
    .argument("<tool>", "tool name, without the prefix")
    .option("--args <json>", "tool arguments as a JSON object", undefined)
    .action(async (prefix: string, tool: string, options: { args?: string }) => {
      const args = parseArgs(options.args);
      const { callTool } = await import("../launch/call-tool.js");
      const result = await withLauncher(prefix, (launcher, server) => callTool(launcher, server, tool, args));
      out.write(`${JSON.stringify(result, null, 2)}\n`);
      if (result.isError) deps.setExitCode?.(1);
    });

  program
    .command("tools")
    .description("Start a server in a container and print its tools as JSON")
    .argument("<server>", "server prefix (router.prefix)")
    .action(async (prefix: string) => {
      const { listTools } = await import("../launch/call-tool.js");
      const tools = await withLauncher(prefix, (launcher, server) => listTools(launcher, server));
      out.write(`${JSON.stringify(tools, null, 2)}\n`);
    });
}
