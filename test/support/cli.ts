/**
 * The CLI in-process, as src/bin.ts runs it but with our own streams: `runCli` with a CliContext
 * of PassThroughs. Milliseconds instead of the seconds a spawned `node --import tsx` costs.
 */
import { homedir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import type { CliContext } from "../../src/cli/context.js";
import { runCli } from "../../src/cli/program.js";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** A context with captured output; `env` is the whole environment the commands see. */
export function testCliContext(options: { env?: Record<string, string | undefined>; input?: string; cwd?: string } = {}): CliContext & { out(): string; err(): string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (c: Buffer) => (out += c.toString()));
  stderr.on("data", (c: Buffer) => (err += c.toString()));
  const stdin = new PassThrough();
  stdin.end(options.input ?? "");
  return {
    env: options.env ?? {},
    cwd: options.cwd ?? REPO_ROOT,
    homedir: homedir(),
    platform: process.platform,
    stdin,
    stdout,
    stderr,
    bundledRegistry: path.join(REPO_ROOT, "registry"),
    selfCommand: { command: process.execPath, args: [path.join(REPO_ROOT, "src/bin.ts")] },
    onShutdown: () => undefined,
    out: () => out,
    err: () => err,
  };
}

/** Runs one command line in-process; the exit code is 0 unless a command or an error set one. */
export async function runCliInProcess(args: readonly string[], options: { env?: Record<string, string | undefined>; input?: string; cwd?: string } = {}): Promise<CliRun> {
  const ctx = testCliContext(options);
  const code = await runCli(args, ctx);
  return { code: code ?? 0, stdout: ctx.out(), stderr: ctx.err() };
}
