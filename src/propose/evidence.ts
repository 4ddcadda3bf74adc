/**
 * Evidence about a repository: its metadata and the few files that say how the server runs.
 * One gathering procedure over a `RepoReader`, so a GitHub repository and a local checkout are
 * analysed the same way. Bounded in size, per file and in total.
 */

export interface RepoMeta {
  /** `owner/repo` on GitHub; for a local checkout, derived from package metadata or the folder name. */
  owner: string;
  repo: string;
  description?: string;
  homepage?: string;
  defaultBranch: string;
  /** The ref evidence was read at (branch, tag or sha). */
  ref: string;
  /** Browsing URL of the repository, e.g. https://github.com/o/r. */
  htmlUrl: string;
  /** Stable id from the hosting service, when known. */
  id?: string;
  /** Latest release tag, when the host has one. */
  latestRelease?: string;
  topics?: string[];
}

export interface TreeEntry {
  /** Path relative to the repository root, `/`-separated. */
  path: string;
  size: number;
}

/** Access to one repository at one ref. */
export interface RepoReader {
  meta(): Promise<RepoMeta>;
  /** Every file of the tree (may be truncated by the host). */
  list(): Promise<TreeEntry[]>;
  /** The file's text, or undefined when it does not exist. Reads at most `maxBytes`. */
  read(path: string, maxBytes: number): Promise<string | undefined>;
  /** A link a reviewer can open for this file. */
  link(path: string): string;
}

export type EvidenceKind =
  | "server.json"
  | "package.json"
  | "pyproject.toml"
  | "dockerfile"
  | "readme"
  | "smithery"
  | "env-example"
  | "cargo.toml"
  | "source";

export interface EvidenceFile {
  kind: EvidenceKind;
  path: string;
  url: string;
  text: string;
  truncated: boolean;
}

export interface Evidence {
  meta: RepoMeta;
  /** Monorepo subfolder the server lives in, "" for the root. */
  subfolder: string;
  files: EvidenceFile[];
  /** Number of files in the tree (for the PR's evidence section). */
  treeSize: number;
}

export interface EvidenceLimits {
  /** Most bytes read from one file. */
  perFile: number;
  /** Most bytes kept in all. */
  total: number;
  /** Most source files fetched while looking for environment reads. */
  sourceFilesScanned: number;
  /** Most source files kept. */
  sourceFilesKept: number;
  /** Most bytes read from server.json: it is structured and must parse whole (large ones declare many variables). */
  serverJson?: number;
  /** Most bytes read from the README (long READMEs keep their configuration sections near the end). */
  readme?: number;
}

export const DEFAULT_LIMITS: EvidenceLimits = { perFile: 48_000, total: 400_000, sourceFilesScanned: 30, sourceFilesKept: 8, serverJson: 512_000, readme: 96_000 };

const SKIP_DIR = /(^|\/)(node_modules|dist|build|\.git|\.venv|venv|__pycache__|vendor|coverage|tests?|__tests__|spec|examples?|docs?|fixtures?|e2e|evals?|scripts|samples?|benchmarks?|website|\.github)\//;
const SOURCE_EXT = /\.(ts|mts|js|mjs|cjs|py|go|rs|java|kt|cs|rb)$/;
const ENV_READ = /process\.env\b|os\.environ|os\.getenv|getenv\(|os\.Getenv|os\.LookupEnv|env::var|\benv\s*=\s*"[A-Z]|System\.getenv|Environment\.GetEnvironmentVariable|ENV\[|validation_alias|viper\.BindEnv/;

/** Gathers the evidence under `subfolder` (README/manifests there, root README as a fallback). */
export async function gatherEvidence(reader: RepoReader, subfolder = "", limits: EvidenceLimits = DEFAULT_LIMITS): Promise<Evidence> {
  const sub = subfolder.replace(/^\/+|\/+$/g, "");
  const [meta, tree] = await Promise.all([reader.meta(), reader.list()]);
  const within = (p: string) => (sub ? p.startsWith(`${sub}/`) : true);
  const rel = (p: string) => (sub ? p.slice(sub.length + 1) : p);
  const byRel = new Map<string, TreeEntry>();
  for (const e of tree) if (within(e.path)) byRel.set(rel(e.path).toLowerCase(), e);

  const files: EvidenceFile[] = [];
  let budget = limits.total;
  const take = async (kind: EvidenceKind, entry: TreeEntry | undefined, perFile = limits.perFile): Promise<EvidenceFile | undefined> => {
    if (!entry || budget <= 0 || files.some((f) => f.path === entry.path)) return undefined;
    const max = Math.min(perFile, budget);
    const text = await reader.read(entry.path, max);
    if (text === undefined) return undefined;
    const file: EvidenceFile = { kind, path: entry.path, url: reader.link(entry.path), text: text.slice(0, max), truncated: entry.size > max || text.length > max };
    budget -= file.text.length;
    files.push(file);
    return file;
  };
  const first = (...names: string[]) => {
    for (const n of names) {
      const e = byRel.get(n.toLowerCase());
      if (e) return e;
    }
    return undefined;
  };

  await take("server.json", first("server.json", ".mcp/server.json"), limits.serverJson ?? limits.perFile);
  await take("package.json", first("package.json"));
  await take("pyproject.toml", first("pyproject.toml"));
  await take("dockerfile", first("Dockerfile", "docker/Dockerfile"));
  await take("cargo.toml", first("Cargo.toml"), 8_000);
  await take("smithery", first("smithery.yaml", "smithery.yml"));
  await take("env-example", first(".env.example", ".env.sample", ".env.template", "env.example", ".env.dist"));
  const readme = first("README.md", "readme.md", "README.rst", "README", "README.txt");
  if (readme) await take("readme", readme, limits.readme ?? limits.perFile);
  else if (sub) await take("readme", tree.find((e) => /^readme(\.md|\.rst|\.txt)?$/i.test(e.path)));

  // Source files that read the environment: rank likely candidates, scan a few, keep those that read env.
  const sources = tree
    .filter((e) => within(e.path) && SOURCE_EXT.test(e.path) && !SKIP_DIR.test(`${rel(e.path)}`) && !/\.(test|spec|d)\.[a-z]+$|_test\.go$|(^|\/)test[-_]|(^|\/)(setup|uninstall|track|publish)[-_]/.test(e.path) && e.size < limits.perFile * 4)
    .map((e) => ({ e, score: sourceScore(rel(e.path)) }))
    .sort((a, b) => b.score - a.score || a.e.path.localeCompare(b.e.path))
    .slice(0, limits.sourceFilesScanned);
  let kept = 0;
  for (const { e } of sources) {
    if (kept >= limits.sourceFilesKept || budget <= 0) break;
    const text = await reader.read(e.path, Math.min(limits.perFile, budget));
    if (text === undefined || !ENV_READ.test(text)) continue;
    const excerpt = envExcerpt(text);
    files.push({ kind: "source", path: e.path, url: reader.link(e.path), text: excerpt, truncated: excerpt.length < text.length });
    budget -= excerpt.length;
    kept++;
  }
  return { meta, subfolder: sub, files, treeSize: tree.length };
}

function sourceScore(p: string): number {
  const base = p.slice(p.lastIndexOf("/") + 1).toLowerCase();
  const depth = p.split("/").length;
  let s = 10 - depth;
  if (/^(config|settings|env|environment)\b/.test(base)) s += 8;
  if (/^(index|main|server|__main__|app|cli|__init__)\b/.test(base)) s += 6;
  if (/(auth|client|api)/.test(base)) s += 2;
  return s;
}

/** The lines of a source file that read the environment, with a little context: enough for the heuristics and Claude. */
function envExcerpt(text: string): string {
  const lines = text.split("\n");
  if (lines.length <= 120) return text;
  const keep = new Set<number>();
  lines.forEach((l, i) => {
    if (ENV_READ.test(l)) for (let j = Math.max(0, i - 2); j <= Math.min(lines.length - 1, i + 2); j++) keep.add(j);
  });
  const out: string[] = [];
  let last = -2;
  for (const i of [...keep].sort((a, b) => a - b)) {
    if (i !== last + 1) out.push(`// ... (line ${i + 1})`);
    out.push(lines[i] ?? "");
    last = i;
  }
  return out.join("\n");
}

/** The evidence file of a kind, if gathered. */
export function evidenceOf(evidence: Evidence, kind: EvidenceKind): EvidenceFile | undefined {
  return evidence.files.find((f) => f.kind === kind);
}
