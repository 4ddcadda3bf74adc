/**
 * A RepoReader over the GitHub REST API (octokit with the retry and throttling plugins):
 * repository metadata, the recursive tree at one ref, file contents, the latest release.
 */
import type { Octokit } from "octokit";
import { ProposeError } from "./errors.js";
import type { RepoMeta, RepoReader, TreeEntry } from "./evidence.js";

export interface GithubRepoSpec {
  owner: string;
  repo: string;
  ref?: string;
}

export function githubRepoReader(octokit: Octokit, spec: GithubRepoSpec): RepoReader {
  let metaP: Promise<RepoMeta> | undefined;
  let treeP: Promise<TreeEntry[]> | undefined;
  const { owner, repo } = spec;

  const meta = (): Promise<RepoMeta> =>
    (metaP ??= (async () => {
      const { data } = await octokit.rest.repos.get({ owner, repo }).catch((err: unknown) => {
        throw githubError(err, `${owner}/${repo}`);
      });
      const release = await octokit.rest.repos.getLatestRelease({ owner, repo }).then(
        (r) => r.data.tag_name,
        () => undefined,
      );
      return {
        owner: data.owner.login,
        repo: data.name,
        defaultBranch: data.default_branch,
        ref: spec.ref ?? data.default_branch,
        htmlUrl: data.html_url,
        id: String(data.id),
        ...(data.description ? { description: data.description } : {}),
        ...(data.homepage ? { homepage: data.homepage } : {}),
        ...(data.topics?.length ? { topics: data.topics } : {}),
        ...(release ? { latestRelease: release } : {}),
      };
    })());

  const reader: RepoReader = {
    meta,
    list: () =>
      (treeP ??= (async () => {
        const { ref } = await meta();
        const { data } = await octokit.rest.git.getTree({ owner, repo, tree_sha: ref, recursive: "1" }).catch((err: unknown) => {
          throw githubError(err, `${owner}/${repo}@${ref}`);
        });
        return data.tree.filter((e) => e.type === "blob" && e.path).map((e) => ({ path: e.path as string, size: e.size ?? 0 }));
      })()),
    async read(path: string, maxBytes: number): Promise<string | undefined> {
      const { ref } = await meta();
      try {
        const { data } = await octokit.rest.repos.getContent({ owner, repo, path, ref });
        if (Array.isArray(data) || data.type !== "file") return undefined;
        const content = "content" in data && typeof data.content === "string" ? data.content : "";
        return Buffer.from(content, "base64").toString("utf8").slice(0, maxBytes);
      } catch (err) {
        if ((err as { status?: number }).status === 404) return undefined;
        throw githubError(err, `${owner}/${repo}/${path}`);
      }
    },
    link(path: string): string {
      return `https://github.com/${owner}/${repo}/blob/${spec.ref ?? "HEAD"}/${path.split("/").map(encodeURIComponent).join("/")}`;
    },
  };
  return reader;
}

export function githubError(err: unknown, what: string): ProposeError {
  const status = (err as { status?: number }).status;
  if (status === 404) {
    return new ProposeError("PROPOSE_SOURCE_NOT_FOUND", `${what} was not found on GitHub`, "Check the URL; for a private repository set GITHUB_TOKEN to a token that can read it.");
  }
  if (status === 401 || status === 403) {
    return new ProposeError("PROPOSE_GITHUB", `GitHub refused access to ${what} (HTTP ${status})`, "Set GITHUB_TOKEN to a valid token with read access (and contents/pull-requests write for --open-pr).");
  }
  return new ProposeError("PROPOSE_GITHUB", `GitHub request for ${what} failed: ${(err as Error).message}`, "Retry later; if it persists check https://www.githubstatus.com.");
}
