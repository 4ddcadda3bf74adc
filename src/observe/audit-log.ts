/**
 * The audit log: one JSON line per upstream call (tools/call, resources/read, prompts/get) saying
 * who called what, where it ran and how it ended. Never argument values, resource URIs or
 * secrets: the line carries names, ids and timings only, and is scrubbed before it is written.
 *
 * Written to a file (appended, mode 0600, rotated by size: `<file>.1` .. `<file>.<keep>`) or to
 * stdout (`-`, for container deployments; refused where stdout carries protocol). Lines are
 * buffered and written off the call path; `close()` flushes them.
 */
import type { FileHandle } from "node:fs/promises";
import { mkdir, open, rename } from "node:fs/promises";
import { dirname } from "node:path";
import { ConfigError } from "../config-error.js";
import type { CallMethod, CallOutcome } from "./metrics.js";

export interface AuditRecord {
  /** ISO 8601, when the call ended. */
  time: string;
  /** Which API key: the first 8 hex chars of its sha256, or `none` (auth off) or `stdio`. */
  key: string;
  /** Who called: `key:<key id>`, `oauth:<subject>`, `stdio` or `anonymous` (the id policy and rate limits use). */
  principal: string;
  /** Client session id. */
  session: string;
  /** Call id, also on the call's log lines. */
  call: string;
  method: CallMethod;
  server: string;
  /** Tool name (tools/call) or prompt name (prompts/get); absent for resources/read. */
  tool?: string;
  /** Registry revision the server version was applied from, or `sha256:<prefix>` of the version. */
  revision: string;
  /** The call's trace id (32 hex): its span's when tracing is on, else the one of the client's `traceparent`, if it sent one. */
  traceId?: string;
  /** Container id (12 chars), when one served the call. */
  container?: string;
  durationMs: number;
  queueMs?: number;
  startMs?: number;
  outcome: CallOutcome;
  /** When it failed: a stable code, and the message only for the gateway's own errors (an upstream message may echo arguments). */
  error?: { code: string; message?: string };
}

export interface AuditLog {
  /** Queues one line; never throws, never blocks. */
  record(entry: AuditRecord): void;
  /** Writes what is queued and closes the file. */
  close(): Promise<void>;
}

export interface AuditLogOptions {
  /** A file path, or `-` for stdout. */
  target: string;
  /** Where `-` writes. Leave it out where stdout carries protocol (stdio mode): `-` is then refused. */
  stdout?: { write(chunk: string): unknown };
  /** Rotate when the file would grow past this many bytes (default 10 MiB). */
  maxBytes?: number;
  /** Rotated files kept (default 5). */
  keep?: number;
  /** Applied to each line before it is written (secret values -> `***`). */
  scrub?: (text: string) => string;
  /** Write failures (disk full...): reported once per failure, the lines are dropped. */
  onError?: (error: Error) => void;
}

export const AUDIT_DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
export const AUDIT_DEFAULT_KEEP = 5;

/** A sink of whole lines, written in order, batched. */
interface LineSink {
  write(chunk: string): Promise<void>;
  close(): Promise<void>;
}

/** Appends to a file; before a write would take it past `maxBytes`, renames it to `.1` (older ones shift up, the oldest goes). */
class RotatingFile implements LineSink {
  #fh: FileHandle | undefined;
  #size = 0;

  constructor(
    private readonly path: string,
    private readonly maxBytes: number,
    private readonly keep: number,
  ) {}

  async open(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    this.#fh = await open(this.path, "a", 0o600);
    this.#size = (await this.#fh.stat()).size;
  }

  async write(chunk: string): Promise<void> {
    let pending = "";
    let pendingBytes = 0;
    for (const line of chunk.split(/(?<=\n)/)) {
      const bytes = Buffer.byteLength(line);
      if (this.#size + pendingBytes + bytes > this.maxBytes && this.#size + pendingBytes > 0) {
        await this.#append(pending);
        pending = "";
        pendingBytes = 0;
        await this.#rotate();
      }
      pending += line;
      pendingBytes += bytes;
    }
    await this.#append(pending);
  }

  async close(): Promise<void> {
    await this.#fh?.close();
    this.#fh = undefined;
  }

  async #append(text: string): Promise<void> {
    if (text === "" || !this.#fh) return;
    await this.#fh.write(text);
    this.#size += Buffer.byteLength(text);
  }

  async #rotate(): Promise<void> {
    await this.#fh?.close();
    for (let i = this.keep; i >= 2; i--) await renameIfExists(`${this.path}.${i - 1}`, `${this.path}.${i}`);
    await renameIfExists(this.path, `${this.path}.1`);
    this.#fh = await open(this.path, "a", 0o600);
    this.#size = 0;
  }
}

async function renameIfExists(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

/** Parses `10m`, `512k`, `1g` or plain bytes (for `--audit-log-max-size`). */
export function parseByteSize(text: string): number {
  const match = /^([1-9][0-9]*)([kmg]?)b?$/i.exec(text.trim());
  if (!match) throw new ConfigError("BAD_SIZE", `${JSON.stringify(text)} is not a size`, "Give a size such as 10m, 512k or 1g.");
  const unit = (match[2] ?? "").toLowerCase() as "" | "k" | "m" | "g";
  return Number(match[1]) * { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[unit];
}

/** Opens the audit log (creating the file's folder). Throws a ConfigError with a hint when the target cannot be used. */
export async function openAuditLog(options: AuditLogOptions): Promise<AuditLog> {
  const scrub = options.scrub ?? ((t: string) => t);
  let sink: LineSink;
  if (options.target === "-") {
    const stdout = options.stdout;
    if (!stdout) {
      throw new ConfigError(
        "AUDIT_LOG_STDOUT_UNAVAILABLE",
        "--audit-log - is refused here: stdout carries the MCP protocol in stdio mode",
        "Give --audit-log a file path (it is rotated by size), or use `serve` for an audit log on stdout.",
      );
    }
    sink = { write: async (chunk) => void stdout.write(chunk), close: async () => undefined };
  } else {
    const keep = options.keep ?? AUDIT_DEFAULT_KEEP;
    const maxBytes = options.maxBytes ?? AUDIT_DEFAULT_MAX_BYTES;
    if (!Number.isInteger(keep) || keep < 1) throw new ConfigError("BAD_AUDIT_KEEP", `keep ${keep} rotated audit files is not possible`, "Keep at least 1 rotated file, e.g. --audit-log-keep 5.");
    if (!(maxBytes >= 1024)) throw new ConfigError("BAD_AUDIT_SIZE", `an audit log of at most ${maxBytes} bytes is too small`, "Give --audit-log-max-size 1k or more, e.g. 10m.");
    const file = new RotatingFile(options.target, maxBytes, keep);
    try {
      await file.open();
    } catch (error) {
      throw new ConfigError(
        "AUDIT_LOG_UNWRITABLE",
        `cannot open the audit log ${options.target}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        "Check that its folder is writable by the daemon, or pass --audit-log - to write it to stdout.",
      );
    }
    sink = file;
  }

  let queue: string[] = [];
  let scheduled = false;
  let closed = false;
  /** Writes run one after another; each takes every line queued by the time it starts. */
  let tail: Promise<void> = Promise.resolve();
  const drain = async (): Promise<void> => {
    scheduled = false;
    if (queue.length === 0) return;
    const batch = queue.join("");
    queue = [];
    try {
      await sink.write(batch);
    } catch (error) {
      options.onError?.(error as Error);
    }
  };

  return {
    record(entry) {
      if (closed) return;
      queue.push(`${scrub(JSON.stringify(entry))}\n`);
      if (scheduled) return;
      scheduled = true;
      setImmediate(() => {
        tail = tail.then(drain);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      while (queue.length > 0) {
        tail = tail.then(drain);
        await tail;
      }
      await tail;
      await sink.close();
    },
  };
}
