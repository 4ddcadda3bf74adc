import type { Readable, Writable } from "node:stream";
import { ReadBuffer, serializeMessage } from "@modelcontextprotocol/sdk/shared/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

export interface ContainerTransportStreams {
  /** The container's stdin (the hijacked attach stream). */
  stdin: Writable;
  /** The container's stdout, demultiplexed. */
  stdout: Readable;
  /** The container's stderr, demultiplexed; kept, size-capped. */
  stderr?: Readable;
  /** Most bytes of stderr kept (the tail); default 16 KiB. */
  stderrLimit?: number;
}

/**
 * An MCP stdio transport over a container's attached streams: newline-delimited JSON-RPC
 * (the SDK's ReadBuffer and serializeMessage), like StdioClientTransport but with injected
 * streams instead of a child process. Closing it does not stop the container; the owner does.
 */
export class ContainerTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private readonly readBuffer = new ReadBuffer();
  private readonly stderrLimit: number;
  private stderrChunks: Buffer[] = [];
  private stderrBytes = 0;
  private started = false;
  private closed = false;

  constructor(private readonly streams: ContainerTransportStreams) {
    this.stderrLimit = streams.stderrLimit ?? 16 * 1024;
  }

  async start(): Promise<void> {
    if (this.started) throw new Error("ContainerTransport already started");
    this.started = true;
    const { stdout, stderr } = this.streams;
    stdout.on("data", this.onData);
    stdout.on("error", this.onStreamError);
    stdout.once("end", this.onEnd);
    stdout.once("close", this.onEnd);
    stderr?.on("data", this.onStderr);
    stderr?.on("error", () => undefined);
  }

  /** The last stderr bytes (at most stderrLimit), as text. */
  stderrTail(): string {
    return Buffer.concat(this.stderrChunks).toString("utf8");
  }

  /** The last `n` non-empty stderr lines. */
  stderrLines(n: number): string[] {
    return this.stderrTail()
      .split(/\r?\n/)
      .filter((line) => line.trim() !== "")
      .slice(-n);
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new Error("ContainerTransport is closed"));
        return;
      }
      const json = serializeMessage(message);
      if (this.streams.stdin.write(json)) resolve();
      else this.streams.stdin.once("drain", resolve);
    });
  }

  async close(): Promise<void> {
    this.finish();
  }

  private readonly onData = (chunk: Buffer): void => {
    this.readBuffer.append(chunk);
    for (;;) {
      let message: JSONRPCMessage | null;
      try {
        message = this.readBuffer.readMessage();
      } catch (error) {
        this.onerror?.(error as Error);
        continue;
      }
      if (message === null) break;
      this.onmessage?.(message);
    }
  };

  private readonly onStderr = (chunk: Buffer): void => {
    this.stderrChunks.push(chunk);
    this.stderrBytes += chunk.length;
    while (this.stderrBytes > this.stderrLimit && this.stderrChunks.length > 1) {
      this.stderrBytes -= (this.stderrChunks.shift() as Buffer).length;
    }
    if (this.stderrBytes > this.stderrLimit && this.stderrChunks.length === 1) {
      const only = this.stderrChunks[0] as Buffer;
      this.stderrChunks = [only.subarray(only.length - this.stderrLimit)];
      this.stderrBytes = this.stderrLimit;
    }
  };

  private readonly onStreamError = (error: Error): void => {
    this.onerror?.(error);
  };

  private readonly onEnd = (): void => {
    this.finish();
  };

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.streams.stdout.off("data", this.onData);
    this.streams.stderr?.off("data", this.onStderr);
    this.readBuffer.clear();
    try {
      this.streams.stdin.end();
    } catch {
      // the socket may already be gone
    }
    this.onclose?.();
  }
}
