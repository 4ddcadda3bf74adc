/**
 * Child processes of the load bench (the upstream, mcp-router, the peers): started with their
 * output kept, stopped by their own pid, and failing with the reason a row can print (exit
 * status and the tail of stderr) instead of ending the run.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";

export interface Child {
  readonly process: ChildProcess;
  /** The last lines the child wrote (stderr and stdout), for error messages. */
  tail(): string;
  /** Resolves when the child has exited (at once if it already has). */
  readonly exited: Promise<void>;
  stop(): Promise<void>;
}

const TAIL_BYTES = 2000;

export function startChild(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Child {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: "pipe",
  });
  let tail = "";
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString("utf8")).slice(-TAIL_BYTES);
  };
  // Both streams are always read, so a chatty child never blocks on a full pipe.
  child.stderr?.on("data", keep);
  child.stdout?.on("data", keep);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null) resolve();
    child.once("exit", () => resolve());
    child.once("error", (error) => {
      tail += `\n${error.message}`;
      resolve();
    });
  });
  return {
    process: child,
    tail: () => tail.trim().split("\n").slice(-6).join(" | "),
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin?.end();
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The first JSON line a child prints on stdout (`{"url": ...}`), or why there is none. */
export async function readReadyLine(child: Child, timeoutMs: number): Promise<{ url: string }> {
  const stdout = child.process.stdout;
  if (!stdout) throw new Error("the child's stdout is not piped");
  let buffer = "";
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`no ready line after ${timeoutMs / 1000} s: ${child.tail()}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      buffer += chunk.toString("utf8");
      const newline = buffer.indexOf("\n");
      if (newline < 0) return;
      try {
        finish(undefined, JSON.parse(buffer.slice(0, newline)) as { url: string });
      } catch {
        finish(new Error(`unexpected ready line ${JSON.stringify(buffer.slice(0, 200))}`));
      }
    };
    const onExit = (): void => finish(new Error(`exited (${child.process.exitCode ?? child.process.signalCode}) before it was ready: ${child.tail()}`));
    function finish(error: Error | undefined, value?: { url: string }): void {
      clearTimeout(timer);
      stdout!.off("data", onData);
      child.process.off("exit", onExit);
      if (error) reject(error);
      else resolve(value!);
    }
    stdout.on("data", onData);
    child.process.once("exit", onExit);
  });
}

/** A TCP port free on 127.0.0.1 now, for a peer that takes a port number but not port 0. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
