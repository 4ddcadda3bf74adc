/**
 * The console's pages, scripts and styles: plain files under `web/console/` in the package (no
 * build step, nothing from a CDN), served as `/` (the page) and `/ui/<file>`. Only files of the
 * listed kinds, only inside that folder; read once and kept (they do not change while it runs).
 */
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

export class StaticAssets {
  readonly #cache = new Map<string, Promise<Buffer | undefined>>();

  constructor(private readonly root: string) {}

  /** Answers `GET <file>` (a path relative to the folder); false when there is no such asset. */
  async serve(req: IncomingMessage, res: ServerResponse, file: string): Promise<boolean> {
    const type = TYPES[path.extname(file)];
    const full = path.resolve(this.root, file);
    if (!type || !full.startsWith(this.root + path.sep) || (req.method !== "GET" && req.method !== "HEAD")) return false;
    let body = this.#cache.get(full);
    if (!body) this.#cache.set(full, (body = readFile(full).catch(() => undefined)));
    const bytes = await body;
    if (!bytes) return false;
    res.writeHead(200, { ...SECURITY_HEADERS, "content-type": type, "content-length": String(bytes.length), "cache-control": "no-cache" });
    res.end(req.method === "HEAD" ? undefined : bytes);
    return true;
  }
}
