/**
 * "Add a server" from a repository URL: the same proposer as `mcp-router propose` and the Action
 * (evidence from GitHub -> heuristics -> Claude when a key is configured -> the sanitising step ->
 * validation), run by the daemon as a job whose steps the page shows as they happen. The result is
 * a draft for the console's editor, never a file: the user reviews it, then writes it or downloads
 * it. Only GitHub repositories are accepted from a browser (a local path would read the daemon's
 * disk). The proposer's modules (octokit, the Anthropic SDK) load on the first proposal.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { ConsoleError } from "./console-http.js";

export interface ProposerSettings {
  githubToken?: string;
  /** GitHub's API base URL (GitHub Enterprise, or a local fake in tests). */
  githubApiUrl?: string;
  anthropicApiKey?: string;
  anthropicBaseUrl?: string;
  model?: string;
  /** Spacing and rate-limit waits for GitHub (default on; off only against a local fake). */
  githubThrottle?: boolean;
}

export interface ProposalJob {
  id: string;
  url: string;
  principal: string;
  state: "running" | "done" | "failed";
  steps: { at: string; message: string }[];
  result?: {
    prefix: string;
    file: string;
    yaml: string;
    valid: boolean;
    errors: string[];
    llm: { used: boolean; reason?: string };
    dropped: { path: string; what: string; why: string; from?: string }[];
    removedSecrets: string[];
  };
  error?: { code: string; message: string; hint?: string };
  startedAt: number;
}

const KEEP_JOBS = 50;
const KEEP_MS = 30 * 60_000;

export class ProposalJobs {
  readonly #jobs = new Map<string, ProposalJob>();

  constructor(
    private readonly settings: ProposerSettings,
    private readonly logger: Logger,
  ) {}

  async start(url: string, principal: string): Promise<ProposalJob> {
    const { parseSourceSpec } = await import("../propose/source-spec.js");
    let spec;
    try {
      spec = parseSourceSpec(url);
    } catch (error) {
      const e = error as Error & { code?: string; hint?: string };
      throw new ConsoleError(400, "PROPOSAL_BAD_URL", e.message, e.hint ?? "Paste a GitHub repository URL, e.g. https://github.com/owner/repo or .../tree/main/path/to/server.");
    }
    if (spec.kind !== "github") throw new ConsoleError(400, "PROPOSAL_BAD_URL", `"${url}" is not a GitHub repository URL`, "Paste a GitHub repository URL, e.g. https://github.com/owner/repo; local folders are proposed with `mcp-router propose <dir>`.");
    this.#prune();
    const job: ProposalJob = { id: randomUUID(), url, principal, state: "running", steps: [], startedAt: Date.now() };
    this.#jobs.set(job.id, job);
    void this.#run(job, spec);
    return job;
  }

  get(id: string, principal: string): ProposalJob | undefined {
    const job = this.#jobs.get(id);
    return job && job.principal === principal ? job : undefined;
  }

  async #run(job: ProposalJob, spec: { kind: "github"; owner: string; repo: string; ref?: string; subfolder?: string }): Promise<void> {
    const step = (message: string) => job.steps.push({ at: new Date().toISOString(), message });
    try {
      const [{ githubClient }, { githubRepoReader }, { propose }] = await Promise.all([import("../propose/github-client.js"), import("../propose/github-repo-reader.js"), import("../propose/propose.js")]);
      const s = this.settings;
      const octokit = githubClient({
        ...(s.githubToken ? { token: s.githubToken } : {}),
        ...(s.githubApiUrl ? { baseUrl: s.githubApiUrl } : {}),
        warn: (m) => step(m),
        ...(s.githubThrottle === false ? { throttle: false } : {}),
      });
      const reader = githubRepoReader(octokit, { owner: spec.owner, repo: spec.repo, ...(spec.ref ? { ref: spec.ref } : {}) });
      const deps: Parameters<typeof propose>[0] = { reader, log: step };
      if (s.anthropicApiKey) {
        const [{ default: Anthropic }, { DEFAULT_MODEL }] = await Promise.all([import("@anthropic-ai/sdk"), import("../propose/claude-proposer.js")]);
        deps.claude = { client: new Anthropic({ apiKey: s.anthropicApiKey, maxRetries: 4, ...(s.anthropicBaseUrl ? { baseURL: s.anthropicBaseUrl } : {}) }), model: s.model ?? DEFAULT_MODEL };
      } else {
        deps.noLlmReason = "the daemon has no ANTHROPIC_API_KEY";
        step("heuristics only: the daemon has no ANTHROPIC_API_KEY");
      }
      const proposal = await propose(deps, { subfolder: spec.subfolder ?? "" });
      step(proposal.validation.ok ? "validation: the proposed file is valid" : `validation: ${proposal.validation.messages.length} problem(s) left for you to fix`);
      job.result = {
        prefix: proposal.prefix,
        // The console writes into `servers/` of the registry it follows.
        file: `servers/${proposal.prefix}.yaml`,
        yaml: proposal.validation.yaml,
        valid: proposal.validation.ok,
        errors: proposal.validation.messages,
        llm: { used: proposal.llm.used, ...(proposal.llm.reason ? { reason: proposal.llm.reason } : {}) },
        dropped: proposal.dropped.map((d) => ({ path: d.path, what: d.what, why: d.why, ...(d.from ? { from: d.from } : {}) })),
        removedSecrets: proposal.removedSecrets,
      };
      job.state = "done";
    } catch (error) {
      const e = error as Error & { code?: string; hint?: string };
      job.error = { code: e.code ?? "PROPOSAL_FAILED", message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
      job.state = "failed";
      step(`failed: ${e.message}`);
      this.logger.warn({ url: job.url, code: job.error.code }, "console proposal failed");
    }
  }

  #prune(): void {
    const now = Date.now();
    for (const [id, job] of this.#jobs) if (job.state !== "running" && now - job.startedAt > KEEP_MS) this.#jobs.delete(id);
    while (this.#jobs.size >= KEEP_JOBS) this.#jobs.delete(this.#jobs.keys().next().value as string);
  }
}
