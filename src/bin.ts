#!/usr/bin/env node
/**
 * The entry point, and the only file that touches `process`: it hands the environment, the
 * streams and the signals to the command tree (src/cli/) and turns its answer into an exit code.
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { CliContext } from "./cli/context.js";
import { runCli } from "./cli/program.js";

const script = fileURLToPath(import.meta.url);
const here = path.dirname(script);

const ctx: CliContext = {
  env: process.env,
  cwd: process.cwd(),
  homedir: homedir(),
  platform: process.platform,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  // src/ (tsx) or dist/src/ (built): the registry shipped beside the package.
  bundledRegistry: ["..", "../.."].map((up) => path.resolve(here, up, "registry")).find((dir) => existsSync(dir)),
  // Another program (Claude Desktop) starts this same script: through tsx in a checkout.
  selfCommand: script.endsWith(".ts") ? { command: process.execPath, args: ["--import", import.meta.resolve("tsx"), script] } : { command: process.execPath, args: [script] },
  onShutdown(handler) {
    let running = false;
    const run = (): void => {
      if (running) return;
      running = true;
      handler().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    // SIGHUP too: a closed terminal must not leave containers behind.
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(signal, run);
  },
};

const code = await runCli(process.argv.slice(2), ctx);
if (code !== undefined) process.exitCode = code;
