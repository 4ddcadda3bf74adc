/**
 * A registry in a local directory (the default: the bundled `registry/`), watched with chokidar.
 * Its revision is a digest of the server files' and the access policy's names, sizes and modification times.
 */
import { createHash } from "node:crypto";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { watch as chokidarWatch } from "chokidar";
import { ACCESS_FILE_NAMES } from "../registry/access-file.js";
import { serversDir } from "../registry/loader.js";
import { SyncError, type RegistrySource, type SourceRevision } from "./registry-source.js";

export interface DirectorySourceOptions {
  dir: string;
  /** Quiet time after the last file event before a reload is asked for. */
  debounceMs?: number;
}

export class DirectorySource implements RegistrySource {
  readonly description: string;
  readonly #dir: string;
  readonly #debounceMs: number;

  constructor(options: DirectorySourceOptions) {
    this.#dir = path.resolve(options.dir);
    this.#debounceMs = options.debounceMs ?? 50;
    this.description = `directory ${this.#dir}`;
  }

  async sync(): Promise<SourceRevision> {
    try {
      const servers = await serversDir(this.#dir);
      const names = (await readdir(servers)).filter((n) => /\.ya?ml$/i.test(n)).sort();
      const files = [...names.map((name) => path.join(servers, name)), ...ACCESS_FILE_NAMES.map((name) => path.join(this.#dir, name))];
      const hash = createHash("sha256");
      for (const file of new Set(files)) {
        const info = await stat(file).catch(() => undefined);
        hash.update(`${path.relative(this.#dir, file)}\0${info?.size ?? -1}\0${info?.mtimeMs ?? -1}\n`);
      }
      return { revision: `dir-${hash.digest("hex").slice(0, 12)}`, dir: this.#dir };
    } catch (err) {
      throw new SyncError("READ_FAILED", `cannot read ${this.#dir}: ${(err as Error).message}`, "Check that the registry directory exists and is readable.");
    }
  }

  watch(onChange: (reason: string) => void): () => Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    let last = "";
    const watcher = chokidarWatch(this.#dir, {
      ignoreInitial: true,
      depth: 2,
      ignored: (p: string) => /(^|[/\\])(\.git|node_modules)([/\\]|$)/.test(p),
    });
    watcher.on("all", (event, file) => {
      last = `${event} ${path.relative(this.#dir, file)}`;
      clearTimeout(timer);
      timer = setTimeout(() => onChange(last), this.#debounceMs);
    });
    return async () => {
      clearTimeout(timer);
      await watcher.close();
    };
  }
}
