/**
 * The console's pages, scripts and styles: plain files under `web/console/` in the package (no
 * build step, nothing from a CDN), served as `/` (the page) and `/ui/<file>`. Only files of the
 * listed kinds, only inside that folder; read once and kept (they do not change while it runs).
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SECURITY_HEADERS } from "./console-http.js";

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

/**
 * `web/console/` of this package: found by walking up from this file, which sits at
 * `src/console/` when run with tsx and at `dist/src/console/` when built.
 */
export function consoleAssetsDir(from = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "web", "console");
    if (existsSync(path.join(candidate, "index.html"))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`the console's files (web/console/index.html) were not found above ${from}; reinstall mcp-router, or serve with --no-console`);
  }
}

interface Asset {
  bytes: Buffer;
  /** A strong validator: a browser revalidates (`no-cache`) and gets a 304 while the file is the same. */
  etag: string;
}

export class StaticAssets {
  readonly #cache = new Map<string, Promise<Asset | undefined>>();

  constructor(private readonly root: string) {}

  /** Answers `GET <file>` (a path relative to the folder); false when there is no such asset. */
  async serve(req: IncomingMessage, res: ServerResponse, file: string): Promise<boolean> {
    const type = TYPES[path.extname(file)];
    const full = path.resolve(this.root, file);
    if (!type || !full.startsWith(this.root + path.sep) || (req.method !== "GET" && req.method !== "HEAD")) return false;
    let pending = this.#cache.get(full);
    if (!pending) {
      pending = readFile(full).then(
        (bytes) => ({ bytes, etag: `"${createHash("sha256").update(bytes).digest("base64url").slice(0, 22)}"` }),
        () => undefined,
      );
      this.#cache.set(full, pending);
    }
    const asset = await pending;
    if (!asset) return false;
    const headers = { ...SECURITY_HEADERS, "content-type": type, "cache-control": "no-cache", etag: asset.etag };
    if (req.headers["if-none-match"] === asset.etag) {
      res.writeHead(304, headers).end();
      return true;
    }
    res.writeHead(200, { ...headers, "content-length": String(asset.bytes.length) });
    res.end(req.method === "HEAD" ? undefined : asset.bytes);
    return true;
  }
}
