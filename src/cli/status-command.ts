/**
 * `mcp-router status`: asks a running daemon for `GET /status` and prints it for humans (or JSON).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { formatStatus } from "./format-status.js";
import type { SyncStatus } from "../sync/reconciler.js";

export interface SyncCommandDeps {
  defaultUrl: string;
  defaultDataDir: string;
  /** MCP_ROUTER_API_KEYS, split. */
  envApiKeys: readonly string[];
  stdout: (text: string) => void;
  fetch: typeof fetch;
  /** The command's exit status (src/bin.ts sets the process's). */
  setExitCode(code: number): void;
}

export class StatusError extends Error {
  constructor(message: string, readonly hint: string) {
    super(message);
  }
}

export function registerSyncCommands(program: Command, deps: SyncCommandDeps): void {
  program
    .command("status")
    .description("show what a running daemon serves: revisions, per-server conditions, the last error")
    .option("--url <url>", "the daemon's base URL", deps.defaultUrl)
    .option("--data-dir <dir>", "data dir holding the generated API key", deps.defaultDataDir)
    .option("--json", "print the raw JSON of GET /status")
    .addHelpText("after", "\nThe key comes from MCP_ROUTER_API_KEYS, else from <data dir>/api-key (written by `serve` on first start).")
    .action(async (opts: { url: string; dataDir: string; json?: boolean }) => {
      const key = deps.envApiKeys[0] ?? (await readFile(path.join(opts.dataDir, "api-key"), "utf8").then((t) => t.trim().split("\n")[0], () => undefined));
      let response: Response;
      try {
        response = await deps.fetch(new URL("status", opts.url.endsWith("/") ? opts.url : `${opts.url}/`), { headers: key ? { authorization: `Bearer ${key}` } : {} });
      } catch (error) {
        throw new StatusError(`no daemon answers at ${opts.url}: ${(error as Error).message}`, "Start it with `mcp-router serve`, or pass --url.");
      }
      if (response.status === 401) throw new StatusError(`${opts.url} refused the API key`, "Set MCP_ROUTER_API_KEYS, or pass --data-dir of the daemon that generated the key.");
      if (!response.ok) throw new StatusError(`${opts.url}/status answered ${response.status}`, "Is this an mcp-router daemon?");
      const status = (await response.json()) as SyncStatus;
      deps.stdout(opts.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
      deps.setExitCode(status.ready ? 0 : 1);
    });
}
