#!/usr/bin/env node
/**
 * The composition root: the only place that reads argv and the environment and builds
 * concrete objects. Every command lives with the job it belongs to.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import { CliError, registerRegistryCommands } from "./registry/cli-registry.js";

/** `./registry` when the working directory has one, else the registry bundled with mcp-router. */
function defaultRegistry(): string {
  if (existsSync(path.join(process.cwd(), "registry"))) return "registry";
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const up of ["..", "../.."]) {
    const bundled = path.resolve(here, up, "registry");
    if (existsSync(bundled)) return bundled;
  }
  return "registry";
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export function buildProgram(): Command {
  const program = new Command("mcp-router")
    .description("GitOps gateway for MCP servers: a reviewed registry, one endpoint, a fresh container per call.")
    .version("0.1.0")
    .showHelpAfterError()
    .addHelpText(
      "after",
      "\nRegistry files live in <registry>/servers/<prefix>.yaml; see the README for the format.\nRun `mcp-router <command> --help` for a command's options.",
    );
  registerRegistryCommands(program, {
    defaultRegistry: defaultRegistry(),
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    readStdin,
    githubActions: process.env.GITHUB_ACTIONS === "true",
  });
  return program;
}

async function main(): Promise<void> {
  const program = buildProgram().exitOverride();
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    if (err instanceof CliError) {
      console.error(`mcp-router: ${err.message}`);
      process.exitCode = err.exitCode;
      return;
    }
    const e = err as Error & { hint?: string };
    console.error(`mcp-router: ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ""}`);
    process.exitCode = 1;
  }
}

await main();
