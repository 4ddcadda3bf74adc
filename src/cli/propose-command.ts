/**
 * `mcp-router propose`: a repo URL (or local checkout, or a GitHub event) in, a reviewed registry
 * file out: printed (--dry-run) or opened as a pull request (--open-pr). The command's work is in
 * run-propose.ts, imported when it runs (it brings the GitHub and Anthropic clients).
 */
import type { Command } from "commander";
import type { VerifyFn } from "../propose/verify.js";

export interface ProposeCommandDeps {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /**
   * The environment, read only here: GITHUB_TOKEN, GITHUB_API_URL, GITHUB_REPOSITORY,
   * GITHUB_EVENT_NAME, GITHUB_OUTPUT, ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL.
   */
  env: Readonly<Record<string, string | undefined>>;
  /** The command's exit status (src/bin.ts sets the process's). */
  setExitCode(code: number): void;
  /** False only against a local fake of GitHub's API (tests): no write spacing, no rate-limit waits. */
  githubThrottle?: boolean;
  /** Builds the verifier for --verify (from the daemon's Launcher); absent: --verify is refused. */
  createVerify?: () => Promise<{ verify: VerifyFn; close: () => Promise<void> }>;
}

export interface ProposeOpts {
  subfolder?: string;
  repository?: string;
  openPr?: boolean;
  dryRun?: boolean;
  llm: boolean;
  verify?: boolean;
  model?: string;
  registryRepo?: string;
  issue?: string;
  fromEvent?: string;
  json?: boolean;
}

export function registerProposeCommands(program: Command, deps: ProposeCommandDeps): void {
  program
    .command("propose")
    .description("propose a registry file for an MCP server's repository (evidence, heuristics, Claude, validation, optional verification, PR)")
    .argument("[source]", "https://github.com/<owner>/<repo>[/tree/<ref>/<subfolder>], <owner>/<repo>, or a local checkout path")
    .option("--subfolder <dir>", "monorepo folder of the server (for a local path or plain repo URL)")
    .option("--repository <owner/name>", "GitHub repository a local checkout comes from (names the server)")
    .option("--open-pr", "open or update a pull request in the registry repo")
    .option("--dry-run", "print the file and the PR body; write nothing")
    .option("--no-llm", "heuristics only (also the case without ANTHROPIC_API_KEY)")
    .option("--verify", "launch the proposal, list its tools and record them in router.tools")
    .option("--model <model>", "Claude model (default: the proposer's DEFAULT_MODEL, claude-proposer.ts)")
    .option("--registry-repo <owner/name>", "registry repository for --open-pr (default: GITHUB_REPOSITORY)")
    .option("--issue <number>", "issue to comment the PR link on")
    .option("--from-event <path>", "read the request from a GitHub event payload (the Action's entry point)")
    .option("--json", "print a JSON summary instead of the file and body")
    .addHelpText(
      "after",
      "\nEnvironment: GITHUB_TOKEN (read repos; contents/pull-requests/issues write for --open-pr),\nANTHROPIC_API_KEY (without it: heuristics only), ANTHROPIC_BASE_URL, GITHUB_API_URL.\nExit status: 0 when a valid file was proposed (and the PR opened), 1 otherwise.",
    )
    .action(async (source: string | undefined, opts: ProposeOpts) => {
      const { runPropose } = await import("./run-propose.js");
      await runPropose(source, opts, deps);
    });
}
