/**
 * Claude Desktop's `claude_desktop_config.json`: where it lives on each OS, the entry that starts
 * `mcp-router stdio`, and a merge that keeps every other entry and writes a backup first.
 */
import { copyFile, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { ConfigError } from "../config-error.js";

export interface DesktopEntry {
  command: string;
  args: string[];
  env?: Record<string, string>;
}

/** The config file Claude Desktop reads, per platform. */
export function desktopConfigPath(platform: NodeJS.Platform, env: Readonly<Record<string, string | undefined>>, home: string): string {
  if (platform === "darwin") return path.posix.join(home, "Library", "Application Support", "Claude", "claude_desktop_config.json");
  if (platform === "win32") {
    const appData = env.APPDATA ?? path.win32.join(home, "AppData", "Roaming");
    return path.win32.join(appData, "Claude", "claude_desktop_config.json");
  }
  const configHome = env.XDG_CONFIG_HOME ?? path.posix.join(home, ".config");
  return path.posix.join(configHome, "Claude", "claude_desktop_config.json");
}

/** The config text with `mcpServers[name] = entry`; every other key and server is kept. */
export function mergeDesktopConfig(existing: string | undefined, name: string, entry: DesktopEntry): string {
  let config: Record<string, unknown> = {};
  if (existing !== undefined && existing.trim() !== "") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(existing);
    } catch (error) {
      throw new ConfigError(
        "DESKTOP_CONFIG_INVALID",
        `the existing Claude Desktop config is not valid JSON (${(error as Error).message}); nothing was changed`,
        "Fix the file by hand, or print the entry with `mcp-router desktop-config` and add it yourself.",
      );
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new ConfigError("DESKTOP_CONFIG_INVALID", "the existing Claude Desktop config is not a JSON object; nothing was changed", "Fix the file by hand.");
    }
    config = parsed as Record<string, unknown>;
  }
  const servers = config.mcpServers;
  const mcpServers = servers !== null && typeof servers === "object" && !Array.isArray(servers) ? (servers as Record<string, unknown>) : {};
  return `${JSON.stringify({ ...config, mcpServers: { ...mcpServers, [name]: entry } }, null, 2)}\n`;
}

export interface InstallResult {
  file: string;
  /** Where the previous file was copied, when there was one. */
  backup?: string;
}

/** Merges the entry into the config file (created if missing), after copying the old file aside. */
export async function installDesktopConfig(file: string, name: string, entry: DesktopEntry, now: Date = new Date()): Promise<InstallResult> {
  let existing: string | undefined;
  try {
    existing = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const merged = mergeDesktopConfig(existing, name, entry);
  await mkdir(path.dirname(file), { recursive: true });
  let backup: string | undefined;
  if (existing !== undefined) {
    backup = `${file}.${now.toISOString().replace(/[:.]/g, "-")}.bak`;
    await copyFile(file, backup);
  }
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, merged);
  await rename(tmp, file);
  return backup ? { file, backup } : { file };
}
