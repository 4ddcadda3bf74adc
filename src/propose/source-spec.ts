/**
 * What `mcp-router propose` was asked to look at: a GitHub repository (optionally a ref and a
 * monorepo subfolder) or a local checkout. Pure parsing, no I/O.
 */
import path from "node:path";
import { ProposeError } from "./errors.js";

export type SourceSpec =
  | { kind: "github"; owner: string; repo: string; ref?: string; subfolder?: string }
  | { kind: "local"; dir: string; subfolder?: string };

const NAME = /^[A-Za-z0-9_.-]+$/;

/**
 * Parses `https://github.com/o/r`, `https://github.com/o/r/tree/<ref>/<subfolder>`,
 * `github.com/o/r`, `git@github.com:o/r.git`, the `o/r` shorthand, or a local path (one that
 * starts with `.`, `/` or `~`, or that `isLocalDir` says exists).
 */
export function parseSourceSpec(input: string, isLocalDir: (p: string) => boolean = () => false): SourceSpec {
  const raw = input.trim();
  if (!raw) throw bad(input);
  if (/^(\.{1,2}|~)?\//.test(raw) || raw === "." || raw === ".." || (isLocalDir(raw) && !/^https?:/.test(raw))) {
    return { kind: "local", dir: path.resolve(raw) };
  }
  const ssh = /^git@github\.com:([^/]+)\/([^/]+?)(?:\.git)?$/.exec(raw);
  if (ssh) return github(ssh[1] ?? "", ssh[2] ?? "", input);
  let rest: string | undefined;
  const url = /^(?:https?:\/\/)?(?:www\.)?github\.com\/(.+)$/i.exec(raw);
  if (url) rest = url[1];
  else if (/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(raw)) rest = raw;
  if (rest === undefined) throw bad(input);
  const parts = rest.split(/[?#]/)[0]!.split("/").filter(Boolean);
  const [owner, repoPart, kind, ref, ...sub] = parts;
  const spec = github(owner ?? "", (repoPart ?? "").replace(/\.git$/, ""), input);
  if (kind === "tree" || kind === "blob") {
    if (!ref) throw bad(input);
    spec.ref = decodeURIComponent(ref);
    const subfolder = sub.map(decodeURIComponent).join("/");
    if (subfolder) spec.subfolder = subfolder;
  }
  return spec;
}

function github(owner: string, repo: string, input: string): SourceSpec & { kind: "github" } {
  if (!NAME.test(owner) || !NAME.test(repo)) throw bad(input);
  return { kind: "github", owner, repo };
}

function bad(input: string): ProposeError {
  return new ProposeError(
    "PROPOSE_BAD_SOURCE",
    `cannot read "${input}" as a GitHub repository or a local path`,
    "Give https://github.com/<owner>/<repo>, https://github.com/<owner>/<repo>/tree/<ref>/<subfolder>, <owner>/<repo>, or a path such as ./checkout.",
  );
}

/** Human/URL form of a spec, used in PR bodies and logs. */
export function describeSource(spec: SourceSpec): string {
  if (spec.kind === "local") return spec.subfolder ? `${spec.dir} (${spec.subfolder})` : spec.dir;
  const base = `https://github.com/${spec.owner}/${spec.repo}`;
  return spec.ref || spec.subfolder ? `${base}/tree/${spec.ref ?? "HEAD"}${spec.subfolder ? `/${spec.subfolder}` : ""}` : base;
}
