/**
 * Writes a proposal to the registry repo as a pull request through the git data API:
 * one commit with `registry/servers/<prefix>.yaml` on branch `add-server/<prefix>`.
 * Idempotent: a second run moves the same branch and edits the same PR; a server already in the
 * registry gets an update PR, or a comment that nothing changed.
 */
import type { Octokit } from "octokit";
import { parse } from "yaml";
import type { RegistryFile } from "../registry/types.js";
import { ProposeError } from "./errors.js";
import { githubError } from "./github-repo-reader.js";
import { prBody, prTitle } from "./pr-body.js";
import type { Proposal } from "./propose.js";
import { validateProposal } from "./validate-proposal.js";

export interface RegistryRepo {
  owner: string;
  repo: string;
}

export interface PullRequestOutcome {
  action: "created" | "updated" | "unchanged";
  url?: string;
  number?: number;
  branch: string;
  /** The comment posted on the request issue, if any. */
  commentUrl?: string;
  message: string;
}

export async function openPullRequest(
  octokit: Octokit,
  target: RegistryRepo,
  proposal: Proposal,
  options: { issueNumber?: number } = {},
): Promise<PullRequestOutcome> {
  const { owner, repo } = target;
  if (!proposal.validation.ok) {
    throw new ProposeError("PROPOSE_INVALID", `the proposed ${proposal.validation.file} is not valid; no pull request opened:\n${proposal.validation.messages.join("\n")}`, "Fix the file by hand (run with --dry-run to print it), or re-run with Claude enabled.");
  }
  const branch = `add-server/${proposal.prefix}`;
  const gh = <T>(what: string, p: Promise<T>) =>
    p.catch((err: unknown) => {
      throw githubError(err, `${owner}/${repo} (${what})`);
    });

  const { data: repoData } = await gh("repository", octokit.rest.repos.get({ owner, repo }));
  const base = repoData.default_branch;
  const { data: baseRef } = await gh("base branch", octokit.rest.git.getRef({ owner, repo, ref: `heads/${base}` }));
  const baseSha = baseRef.object.sha;

  // A server already in the registry: update it, keeping the reviewers' router settings.
  const existingText = await readFile(octokit, target, proposal.validation.file, base);
  let entry = proposal.entry;
  let existing: RegistryFile | undefined;
  if (existingText !== undefined) {
    existing = parse(existingText) as RegistryFile;
    const { tools: existingTools, prefix: _p, ...kept } = existing.router ?? { prefix: proposal.prefix };
    const mergedRouter = { ...kept, ...(entry.router ?? {}), prefix: proposal.prefix };
    // An unverified run of the same version keeps the catalog verified earlier.
    if (!mergedRouter.tools && existingTools && existing.version === entry.version) mergedRouter.tools = existingTools;
    entry = { ...entry, router: mergedRouter };
  }
  const validation = validateProposal(entry, proposal.prefix);
  const final = validation.ok ? { ...proposal, entry, validation } : proposal;
  const content = final.validation.yaml;

  if (existingText !== undefined && existingText === content) {
    const message = `${final.validation.file} is already up to date in ${owner}/${repo} (version ${existing?.version}); no pull request needed.`;
    const comment = options.issueNumber !== undefined ? await commentOn(octokit, target, options.issueNumber, `✅ ${message}`) : undefined;
    return { action: "unchanged", branch, message, ...(comment ? { commentUrl: comment } : {}) };
  }

  // One commit on top of the base branch: blob -> tree -> commit.
  const { data: baseCommit } = await gh("base commit", octokit.rest.git.getCommit({ owner, repo, commit_sha: baseSha }));
  const { data: blob } = await gh("blob", octokit.rest.git.createBlob({ owner, repo, content, encoding: "utf-8" }));
  const { data: tree } = await gh("tree", octokit.rest.git.createTree({ owner, repo, base_tree: baseCommit.tree.sha, tree: [{ path: final.validation.file, mode: "100644", type: "blob", sha: blob.sha }] }));
  const title = prTitle(final, existing);
  const { data: commit } = await gh(
    "commit",
    octokit.rest.git.createCommit({ owner, repo, message: `${title}\n\nProposed by mcp-router propose from ${final.evidence.meta.htmlUrl}.`, tree: tree.sha, parents: [baseSha] }),
  );

  const branchExists = await octokit.rest.git.getRef({ owner, repo, ref: `heads/${branch}` }).then(
    () => true,
    (err: unknown) => {
      if ((err as { status?: number }).status === 404) return false;
      throw githubError(err, `${owner}/${repo} (branch ${branch})`);
    },
  );
  if (branchExists) await gh("branch update", octokit.rest.git.updateRef({ owner, repo, ref: `heads/${branch}`, sha: commit.sha, force: true }));
  else await gh("branch", octokit.rest.git.createRef({ owner, repo, ref: `refs/heads/${branch}`, sha: commit.sha }));

  const body = prBody(final, { ...(options.issueNumber !== undefined ? { issueNumber: options.issueNumber } : {}), ...(existing ? { existing } : {}) });
  const { data: open } = await gh("pull requests", octokit.rest.pulls.list({ owner, repo, head: `${owner}:${branch}`, state: "open", per_page: 10 }));
  let pr: { html_url: string; number: number };
  let action: PullRequestOutcome["action"];
  if (open[0]) {
    pr = (await gh("pull request update", octokit.rest.pulls.update({ owner, repo, pull_number: open[0].number, title, body }))).data;
    action = "updated";
  } else {
    pr = (await gh("pull request", octokit.rest.pulls.create({ owner, repo, title, head: branch, base, body }))).data;
    action = "created";
  }
  const message = `${action === "created" ? "Opened" : "Updated"} ${pr.html_url}`;
  const comment =
    options.issueNumber !== undefined
      ? await commentOn(octokit, target, options.issueNumber, `${action === "created" ? "Opened" : "Updated"} ${pr.html_url} with \`${final.validation.file}\` (${final.verification.status === "passed" ? `verified, ${final.verification.toolCount ?? 0} tools` : `verification ${final.verification.status}`}).`)
      : undefined;
  return { action, url: pr.html_url, number: pr.number, branch, message, ...(comment ? { commentUrl: comment } : {}) };
}

export async function commentOn(octokit: Octokit, target: RegistryRepo, issueNumber: number, body: string): Promise<string> {
  const { data } = await octokit.rest.issues.createComment({ owner: target.owner, repo: target.repo, issue_number: issueNumber, body }).catch((err: unknown) => {
    throw githubError(err, `${target.owner}/${target.repo}#${issueNumber}`);
  });
  return data.html_url;
}

async function readFile(octokit: Octokit, target: RegistryRepo, path: string, ref: string): Promise<string | undefined> {
  try {
    const { data } = await octokit.rest.repos.getContent({ owner: target.owner, repo: target.repo, path, ref });
    if (Array.isArray(data) || data.type !== "file" || !("content" in data)) return undefined;
    return Buffer.from(data.content, "base64").toString("utf8");
  } catch (err) {
    if ((err as { status?: number }).status === 404) return undefined;
    throw githubError(err, `${target.owner}/${target.repo}/${path}`);
  }
}
