/**
 * The secret store the web console writes to: a folder in the data dir (mode 0700) with one file
 * per secret (mode 0600), the layout `--secrets-dir` reads, so an operator can inspect or back it
 * up the usual way. Write-only from the console's side: values go in, are never read back out to
 * it, never logged. Writes are atomic (a temporary file renamed over the old one). Read once at
 * start, then kept in memory alongside every change.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { chmod, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { ConfigError } from "../config-error.js";
import type { SecretSource } from "./secret-source.js";

/** Names the daemon keeps for itself: no registry file may use them, so none is stored for one. */
const RESERVED = /^MCP_ROUTER_/i;
export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
export const MAX_SECRET_BYTES = 64 * 1024;

export interface WritableSecretStore extends SecretSource {
  readonly dir: string;
  has(name: string): boolean;
  set(name: string, value: string): Promise<void>;
  /** True when there was a value to remove. */
  remove(name: string): Promise<boolean>;
}

export class SecretStoreError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

export function openConsoleSecretStore(dir: string): WritableSecretStore {
  const values = new Map<string, string>();
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    for (const name of readdirSync(dir)) {
      const file = path.join(dir, name);
      if (SECRET_NAME.test(name) && statSync(file).isFile()) values.set(name, readFileSync(file, "utf8"));
    }
  } catch (error) {
    throw new ConfigError("CONSOLE_SECRETS_UNREADABLE", `cannot read the console's secret store ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, "Fix its permissions (the daemon's user owns it, mode 0700), or serve with --no-console.");
  }
  return {
    dir,
    description: `the console's secret store ${dir}`,
    get: (name) => values.get(name),
    has: (name) => values.has(name),
    async set(name, value) {
      checkName(name);
      if (value === "") throw new SecretStoreError("SECRET_EMPTY", `no value given for ${name}`, "Paste the value; to take a value away, remove the secret instead.");
      if (value.includes("\0")) throw new SecretStoreError("SECRET_INVALID", `the value for ${name} contains a NUL character`, "Paste the value as text.");
      if (Buffer.byteLength(value) > MAX_SECRET_BYTES) throw new SecretStoreError("SECRET_TOO_LARGE", `the value for ${name} is larger than ${MAX_SECRET_BYTES / 1024} KiB`, "Secrets are tokens and keys; large files belong in a mounted folder.");
      const temporary = path.join(dir, `.${name}.${randomBytes(6).toString("hex")}.tmp`);
      try {
        await writeFile(temporary, value, { mode: 0o600, flag: "wx" });
        await chmod(temporary, 0o600);
        await rename(temporary, path.join(dir, name));
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
      values.set(name, value);
    },
    async remove(name) {
      checkName(name);
      if (!values.has(name)) return false;
      await rm(path.join(dir, name), { force: true });
      values.delete(name);
      return true;
    },
  };
}

function checkName(name: string): void {
  if (!SECRET_NAME.test(name)) throw new SecretStoreError("SECRET_NAME_INVALID", `"${name}" is not a secret name`, "Use the name the server file declares: letters, digits, _ and -.");
  if (RESERVED.test(name)) throw new SecretStoreError("SECRET_NAME_RESERVED", `${name} is one of the daemon's own names (MCP_ROUTER_*)`, "No registry file may read the daemon's own settings; give the server a secret of its own.");
}
