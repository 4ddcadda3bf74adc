/**
 * Bearer API keys of the HTTP gateway: given to the daemon, or generated once and stored in the
 * data dir (mode 0600). Compared in constant time; never logged.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError } from "../config-error.js";

export const API_KEY_FILE = "api-key";

export interface ResolvedApiKeys {
  keys: string[];
  /** Set when a key was generated now: the caller prints it once. */
  generated?: { key: string; file: string };
  /** Where the keys came from, for logs (never the keys themselves). */
  source: string;
}


/** Keys from a file: one per line, `#` comments and blank lines ignored. */
export function parseKeyFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

export function generateApiKey(): string {
  return `mcpr_${randomBytes(32).toString("base64url")}`;
}

/**
 * The keys to accept: the given ones if any (flag, env or a keys file read by the caller), else
 * the one stored in `<dataDir>/api-key`, generated (0600) on first use.
 */
export async function resolveApiKeys(given: readonly string[], dataDir: string): Promise<ResolvedApiKeys> {
  const keys = given.map((k) => k.trim()).filter(Boolean);
  for (const key of keys) {
    if (key.length < 16) throw new ConfigError("API_KEY_TOO_SHORT", "an API key is shorter than 16 characters", "Use long random keys, e.g. `openssl rand -base64 32`.");
  }
  if (keys.length > 0) return { keys, source: "configuration" };
  const file = join(dataDir, API_KEY_FILE);
  try {
    const stored = parseKeyFile(await readFile(file, "utf8"));
    if (stored.length > 0) return { keys: stored, source: file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new ConfigError("API_KEY_FILE_UNREADABLE", `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? "error"}`, "Fix its permissions or delete it to generate a new key.");
    }
  }
  const key = generateApiKey();
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return { keys: [key], generated: { key, file }, source: file };
}

/**
 * The id of a key, for the audit log and the policy: the first 8 hex chars of its sha256
 * (`printf %s "$KEY" | sha256sum | cut -c1-8` names it), never the key.
 */
export function apiKeyId(key: string): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 8);
}

/**
 * A matcher for presented bearer tokens: the id of the key it equals, else undefined. The keys'
 * digests are made once; a token is compared with every one in constant time (no early exit).
 */
export function apiKeyMatcher(keys: readonly string[]): (token: string) => string | undefined {
  const known = keys.map((key) => ({ digest: createHash("sha256").update(key).digest(), id: apiKeyId(key) }));
  return (token) => {
    const presented = createHash("sha256").update(token).digest();
    let id: string | undefined;
    for (const key of known) if (timingSafeEqual(presented, key.digest)) id = key.id;
    return id;
  };
}

/** Checks `Authorization: Bearer <key>` against every key in constant time (digests, no early exit). */
export function bearerMatches(header: string | undefined, keys: readonly string[]): boolean {
  if (!header) return false;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) return false;
  const presented = createHash("sha256").update(match[1]).digest();
  let ok = false;
  for (const key of keys) {
    const expected = createHash("sha256").update(key).digest();
    if (timingSafeEqual(presented, expected)) ok = true;
  }
  return ok;
}

/** Whether a bind address only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}
