/**
 * `validate`, `import` and `export`: the registry commands of the CLI.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { formatDiagnostic, formatGithubAnnotation } from "../registry/diagnostic.js";
import type { RegistryLoad } from "../registry/loader.js";
import type { OperatorPolicy } from "../registry/policy.js";
import type { RegistryServer } from "../registry/types.js";
// The loader (yaml, ajv) is imported by the commands that read files, when they run.

export interface RegistryCommandDeps {
  /** The registry folder used when none is given. */
  defaultRegistry: string;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => Promise<string>;
  /** Whether to print GitHub Actions annotations (the composition root reads GITHUB_ACTIONS). */
  githubActions: boolean;
  /** The command's exit status (src/bin.ts sets the process's). */
  setExitCode(code: number): void;
  /** The operator policy files are checked against (--policy; the strictest by default). */
  policy(): Promise<OperatorPolicy>;
}

export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

export function registerRegistryCommands(program: Command, deps: RegistryCommandDeps): void {
  program
    .command("validate")
    .description("check every server file of a registry against the schema and the registry rules")
    .argument("[dir]", "registry folder (holding servers/*.yaml)", deps.defaultRegistry)
    .option("--format <format>", "output: human or json", "human")
    .addHelpText(
      "after",
      "\nExit status is 0 when every file is valid, 1 otherwise. Inside GitHub Actions each error is\nalso printed as an ::error annotation so it shows on the pull request's diff. Privileged settings\n(mounts, bridge egress, private targets, raised limits) are checked against the operator policy:\ngive the daemon's with --policy (before the command), or the strictest default applies.",
    )
    .action(async (dir: string, opts: { format: string }) => {
      if (opts.format !== "human" && opts.format !== "json") throw new CliError(`--format must be human or json, not "${opts.format}"`, 2);
      const { loadRegistry, serversDir } = await import("../registry/loader.js");
      const load = await loadRegistry(dir, { policy: await deps.policy() });
      if (opts.format === "json") deps.stdout(JSON.stringify(validationReport(load), null, 2) + "\n");
      else deps.stdout(humanReport(load, await serversDir(load.root)));
      if (deps.githubActions) for (const d of load.diagnostics) deps.stdout(formatGithubAnnotation(d) + "\n");
      deps.setExitCode(load.diagnostics.length ? 1 : 0);
    });

  program
    .command("import")
    .description("turn a server.json document into a registry file (servers/<prefix>.yaml)")
    .argument("<server.json>", "path of the server.json file, or - to read standard input")
    .option("--registry <dir>", "registry folder to write into", deps.defaultRegistry)
    .option("--prefix <prefix>", "tool prefix (default: derived from the server name)")
    .option("-o, --out <file>", "write here instead of <registry>/servers/<prefix>.yaml; - for standard output")
    .option("--force", "overwrite an existing file")
    .action(async (source: string, opts: { registry: string; prefix?: string; out?: string; force?: boolean }) => {
      const [{ parseRegistryFile }, { fromServerJson, suggestPrefix, toRegistryYaml }] = await Promise.all([import("../registry/parse-registry-file.js"), import("../registry/server-json.js")]);
      const text = source === "-" ? await deps.readStdin() : await readFile(source, "utf8");
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch (err) {
        throw new CliError(`${source === "-" ? "standard input" : source} is not valid JSON: ${(err as Error).message}`);
      }
      if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new CliError("a server.json document is a JSON object");
      const name = (doc as { name?: unknown }).name;
      const prefix = opts.prefix ?? suggestPrefix(typeof name === "string" ? name : "server");
      const yaml = toRegistryYaml(fromServerJson(doc as Record<string, unknown>, prefix));
      const target = opts.out ?? path.join(opts.registry, "servers", `${prefix}.yaml`);
      const shown = target === "-" ? `servers/${prefix}.yaml` : target;
      const parsed = parseRegistryFile(shown, yaml, `servers/${prefix}.yaml`);
      if (parsed.diagnostics.length) {
        deps.stderr(parsed.diagnostics.map(formatDiagnostic).join("\n") + "\n");
        throw new CliError(`the imported document is not a valid registry file (${parsed.diagnostics.length} problem(s) above); nothing written`);
      }
      if (target === "-") {
        deps.stdout(yaml);
        return;
      }
      if (existsSync(target) && !opts.force) throw new CliError(`${target} already exists; pass --force to overwrite it, or --prefix to pick another name`);
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, yaml);
      deps.stderr(`wrote ${target}\n`);
    });

  program
    .command("export")
    .description("print a server of the registry as a valid server.json document (without router:)")
    .argument("<name>", "the server's prefix (e.g. memory) or full name (io.github.owner/server)")
    .option("--registry <dir>", "registry folder", deps.defaultRegistry)
    .action(async (name: string, opts: { registry: string }) => {
      const [{ loadRegistry }, { toServerJson }] = await Promise.all([import("../registry/loader.js"), import("../registry/server-json.js")]);
      const server = findServer(await loadRegistry(opts.registry), name);
      deps.stdout(JSON.stringify(toServerJson(server.entry), null, 2) + "\n");
    });
}

/** The valid server with this prefix or name; a CliError that lists the choices otherwise. */
export function findServer(load: RegistryLoad, name: string): RegistryServer {
  const server = load.servers.find((s) => s.prefix === name || s.name === name);
  if (server) return server;
  const broken = load.files.find((f) => f.prefix === name && !f.server);
  if (broken) {
    throw new CliError(`${broken.file} is not valid:\n${broken.diagnostics.map(formatDiagnostic).join("\n")}`);
  }
  const known = load.servers.map((s) => s.prefix).join(", ") || "(none)";
  throw new CliError(`no server "${name}" in ${load.root}; known prefixes: ${known}`);
}

export function validationReport(load: RegistryLoad) {
  return {
    ok: load.diagnostics.length === 0,
    root: load.root,
    errorCount: load.diagnostics.length,
    files: load.files.map((f) => ({ file: f.file, prefix: f.prefix, valid: !!f.server, diagnostics: f.diagnostics })),
  };
}

function humanReport(load: RegistryLoad, dir: string): string {
  const shownDir = shownPath(dir);
  if (load.files.length === 0) return `no server files (*.yaml) in ${shownDir}\n`;
  if (load.diagnostics.length === 0) return `✓ ${load.files.length} server files valid in ${shownDir}\n`;
  const bad = load.files.filter((f) => f.diagnostics.length).length;
  const lines = load.diagnostics.map(formatDiagnostic);
  const n = load.diagnostics.length;
  lines.push("", `✗ ${n} error${n === 1 ? "" : "s"} in ${bad} of ${load.files.length} files (${load.files.length - bad} valid) in ${shownDir}`);
  return lines.join("\n") + "\n";
}

/** A path as short as it can be shown: relative to the working directory when inside it. */
export function shownPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel === "" ? "." : rel.startsWith("..") || path.isAbsolute(rel) ? path.resolve(p) : rel;
}
