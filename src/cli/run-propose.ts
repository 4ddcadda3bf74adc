/**
 * The work of `mcp-router propose` (registered in cli-propose.ts): read the repository, propose,
 * validate, optionally verify, then print the result or open the pull request.
 */
import { existsSync, statSync } from "node:fs";
import { appendFile, readFile } from "node:fs/promises";
import Anthropic from "@anthropic-ai/sdk";
import { requestFromEvent, type EventRequest } from "../propose/action-event.js";
import { DEFAULT_MODEL } from "../propose/claude-proposer.js";
import type { ProposeCommandDeps, ProposeOpts } from "./propose-command.js";
import { ProposeError } from "../propose/errors.js";
import type { RepoReader } from "../propose/evidence.js";
import { githubClient } from "../propose/github-client.js";
import { githubRepoReader } from "../propose/github-repo-reader.js";
import { localRepoReader } from "../propose/local-repo-reader.js";
import { commentOn, openPullRequest, type RegistryRepo } from "../propose/open-pull-request.js";
import { prBody } from "../propose/pr-body.js";
import { propose, type ProposeDeps } from "../propose/propose.js";
import { parseSourceSpec } from "../propose/source-spec.js";
import type { VerifyFn } from "../propose/verify.js";

export async function runPropose(source: string | undefined, opts: ProposeOpts, deps: ProposeCommandDeps): Promise<void> {
  const env = deps.env;
  const octokit = githubClient({
    ...(env.GITHUB_TOKEN ? { token: env.GITHUB_TOKEN } : {}),
    ...(env.GITHUB_API_URL ? { baseUrl: env.GITHUB_API_URL } : {}),
    warn: (m) => deps.stderr(`${m}\n`),
    ...(deps.githubThrottle === false ? { throttle: false } : {}),
  });
  let request: EventRequest | undefined;
  if (opts.fromEvent) {
    const payload = JSON.parse(await readFile(opts.fromEvent, "utf8")) as Record<string, unknown>;
    request = requestFromEvent(payload, env.GITHUB_EVENT_NAME);
    deps.stderr(`event ${request.eventName}: ${request.url}${request.issueNumber !== undefined ? ` (issue #${request.issueNumber})` : ""}\n`);
  }
  const input = request?.url ?? source;
  if (!input) throw new ProposeError("PROPOSE_BAD_SOURCE", "no repository given", "Pass a URL or path, or --from-event <event.json>.");
  const issueNumber = opts.issue !== undefined ? Number(opts.issue) : request?.issueNumber;
  const registryRepo = parseRepo(opts.registryRepo ?? env.GITHUB_REPOSITORY ?? request?.repository);
  const writing = !!opts.openPr && !opts.dryRun;
  if (writing && !registryRepo) {
    throw new ProposeError("PROPOSE_NO_REGISTRY_REPO", "--open-pr needs the registry repository", "Pass --registry-repo <owner>/<name> or set GITHUB_REPOSITORY.");
  }

  try {
    const spec = parseSourceSpec(input, (p) => existsSync(p) && statSync(p).isDirectory());
    const subfolder = opts.subfolder ?? request?.subfolder ?? spec.subfolder ?? "";
    const reader: RepoReader =
      spec.kind === "github"
        ? githubRepoReader(octokit, { owner: spec.owner, repo: spec.repo, ...(spec.ref ? { ref: spec.ref } : {}) })
        : localRepoReader(spec.dir, opts.repository ? { repository: opts.repository } : {});

    const proposeDeps: ProposeDeps = { reader, log: (m) => deps.stderr(`propose: ${m}\n`) };
    const model = request?.model ?? opts.model ?? DEFAULT_MODEL;
    if (!opts.llm) proposeDeps.noLlmReason = "--no-llm was given";
    else if (!env.ANTHROPIC_API_KEY) proposeDeps.noLlmReason = "ANTHROPIC_API_KEY is not set";
    else {
      const client = new Anthropic({ apiKey: env.ANTHROPIC_API_KEY, maxRetries: 4, ...(env.ANTHROPIC_BASE_URL ? { baseURL: env.ANTHROPIC_BASE_URL } : {}) });
      proposeDeps.claude = { client, model };
    }
    if (proposeDeps.noLlmReason) deps.stderr(`propose: heuristics only (${proposeDeps.noLlmReason})\n`);

    let verifier: { verify: VerifyFn; close: () => Promise<void> } | undefined;
    if (opts.verify || request?.verify) {
      if (!deps.createVerify) throw new ProposeError("PROPOSE_INVALID", "--verify is not available in this build", "Run without --verify, or on a machine with the launcher (Docker) available.");
      verifier = await deps.createVerify();
      proposeDeps.verify = verifier.verify;
    }
    let proposal;
    try {
      proposal = await propose(proposeDeps, { subfolder });
    } finally {
      await verifier?.close();
    }

    if (!proposal.validation.ok) deps.stderr(`propose: the proposed file is not valid:\n${proposal.validation.messages.join("\n")}\n`);
    if (!writing) {
      if (opts.json) deps.stdout(JSON.stringify(summary(proposal), null, 2) + "\n");
      else deps.stdout(`# ${proposal.validation.file}\n${proposal.validation.yaml}\n# pull request body\n${prBody(proposal, issueNumber !== undefined ? { issueNumber } : {})}`);
      deps.setExitCode(proposal.validation.ok ? 0 : 1);
      return;
    }
    const outcome = await openPullRequest(octokit, registryRepo!, proposal, issueNumber !== undefined ? { issueNumber } : {});
    deps.stderr(`propose: ${outcome.message}\n`);
    if (opts.json) deps.stdout(JSON.stringify({ ...summary(proposal), pullRequest: outcome }, null, 2) + "\n");
    else deps.stdout(`${outcome.url ?? outcome.message}\n`);
    if (env.GITHUB_OUTPUT) {
      await appendFile(env.GITHUB_OUTPUT, `pr-url=${outcome.url ?? ""}\nprefix=${proposal.prefix}\nresult=${outcome.action}\n`);
    }
    deps.setExitCode(0);
  } catch (err) {
    // In the Action, tell the requester on their issue what went wrong and how to fix it.
    if (writing && registryRepo && issueNumber !== undefined) {
      const e = err as Error & { hint?: string };
      await commentOn(octokit, registryRepo, issueNumber, `⚠️ Could not propose a server file for ${input}:\n\n${e.message}${e.hint ? `\n\nHow to fix: ${e.hint}` : ""}`).catch(() => {});
    }
    throw err;
  }
}

function parseRepo(value: string | undefined): RegistryRepo | undefined {
  const m = value ? /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(value) : null;
  return m ? { owner: m[1]!, repo: m[2]! } : undefined;
}

function summary(p: Awaited<ReturnType<typeof propose>>) {
  return {
    file: p.validation.file,
    prefix: p.prefix,
    valid: p.validation.ok,
    errors: p.validation.messages,
    runtime: p.analysis.best?.runtime,
    identifier: p.analysis.best?.identifier,
    llm: p.llm,
    verification: p.verification,
    notes: p.analysis.notes,
    yaml: p.validation.yaml,
  };
}
