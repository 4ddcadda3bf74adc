/**
 * A local HTTP server (port 0) that answers like GitHub's REST API and Anthropic's Messages API,
 * with the shapes of their real responses, so the real octokit and @anthropic-ai/sdk clients can
 * be pointed at it through their base-URL options. State lives in memory; every request is logged.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

export interface LoggedRequest {
  method: string;
  path: string;
  body: unknown;
  headers: IncomingMessage["headers"];
}

interface Commit {
  tree: string;
  parents: string[];
  message: string;
}

interface FakeRepo {
  id: number;
  owner: string;
  name: string;
  description: string | null;
  defaultBranch: string;
  refs: Map<string, string>;
  commits: Map<string, Commit>;
  /** tree sha -> path -> blob sha (flat trees: enough for our use). */
  trees: Map<string, Map<string, string>>;
  blobs: Map<string, string>;
  pulls: { number: number; title: string; body: string; head: string; base: string; state: "open" | "closed" }[];
  comments: { issue: number; body: string; id: number }[];
  latestRelease?: string;
}

/** One scripted Anthropic reply: a status with an error, or a message with content blocks. */
export type AnthropicReply =
  | { status: number; error: { type: string; message: string }; headers?: Record<string, string> }
  | { content: Record<string, unknown>[]; stop_reason?: string };

export class FakeApis {
  readonly requests: LoggedRequest[] = [];
  readonly anthropicRequests: Record<string, unknown>[] = [];
  private readonly repos = new Map<string, FakeRepo>();
  private readonly anthropicQueue: AnthropicReply[] = [];
  private server: Server | undefined;
  private nextId = 1000;
  baseUrl = "";

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  get githubUrl(): string {
    return `${this.baseUrl}/github`;
  }

  get anthropicUrl(): string {
    return `${this.baseUrl}/anthropic`;
  }

  /** Queues Anthropic replies, served in order. */
  queueAnthropic(...replies: AnthropicReply[]): void {
    this.anthropicQueue.push(...replies);
  }

  /** Forgets replies queued but not asked for (a case that needed fewer rounds than it queued). */
  clearAnthropic(): void {
    this.anthropicQueue.length = 0;
  }

  /** Creates a repo whose default branch holds `files` (path -> text). */
  addRepo(fullName: string, files: Record<string, string>, options: { description?: string; latestRelease?: string; defaultBranch?: string } = {}): void {
    const [owner, name] = fullName.split("/") as [string, string];
    const repo: FakeRepo = {
      id: this.nextId++,
      owner,
      name,
      description: options.description ?? null,
      defaultBranch: options.defaultBranch ?? "main",
      refs: new Map(),
      commits: new Map(),
      trees: new Map(),
      blobs: new Map(),
      pulls: [],
      comments: [],
      ...(options.latestRelease ? { latestRelease: options.latestRelease } : {}),
    };
    const entries = new Map<string, string>();
    for (const [p, text] of Object.entries(files)) entries.set(p, this.putBlob(repo, text));
    const tree = this.putTree(repo, entries);
    const commit = this.putCommit(repo, { tree, parents: [], message: "initial" });
    repo.refs.set(`heads/${repo.defaultBranch}`, commit);
    this.repos.set(fullName.toLowerCase(), repo);
  }

  /** Loads a directory from disk as a repo. */
  addRepoFromDir(fullName: string, dir: string, options: { description?: string; latestRelease?: string } = {}): void {
    const files: Record<string, string> = {};
    const walk = (rel: string) => {
      for (const name of readdirSync(path.join(dir, rel))) {
        const p = rel ? `${rel}/${name}` : name;
        if (statSync(path.join(dir, p)).isDirectory()) walk(p);
        else files[p] = readFileSync(path.join(dir, p), "utf8");
      }
    };
    walk("");
    this.addRepo(fullName, files, options);
  }

  /** The text of a file on a branch (undefined if absent). */
  fileOn(fullName: string, branch: string, filePath: string): string | undefined {
    const repo = this.repo(fullName);
    const sha = repo?.refs.get(`heads/${branch}`);
    const commit = sha ? repo?.commits.get(sha) : undefined;
    const blob = commit ? repo?.trees.get(commit.tree)?.get(filePath) : undefined;
    return blob ? repo?.blobs.get(blob) : undefined;
  }

  branchCommits(fullName: string, branch: string): Commit[] {
    const repo = this.repo(fullName)!;
    const out: Commit[] = [];
    let sha = repo.refs.get(`heads/${branch}`);
    while (sha) {
      const c = repo.commits.get(sha)!;
      out.push(c);
      sha = c.parents[0];
    }
    return out;
  }

  pulls(fullName: string): FakeRepo["pulls"] {
    return this.repo(fullName)?.pulls ?? [];
  }

  comments(fullName: string): FakeRepo["comments"] {
    return this.repo(fullName)?.comments ?? [];
  }

  private repo(fullName: string): FakeRepo | undefined {
    return this.repos.get(fullName.toLowerCase());
  }

  private sha(kind: string, text: string): string {
    return createHash("sha1").update(`${kind}\0${text}`).digest("hex");
  }

  private putBlob(repo: FakeRepo, text: string): string {
    const sha = this.sha("blob", text);
    repo.blobs.set(sha, text);
    return sha;
  }

  private putTree(repo: FakeRepo, entries: Map<string, string>): string {
    const sha = this.sha("tree", JSON.stringify([...entries].sort()));
    repo.trees.set(sha, new Map(entries));
    return sha;
  }

  private putCommit(repo: FakeRepo, commit: Commit): string {
    const sha = this.sha("commit", JSON.stringify(commit) + String(this.nextId++));
    repo.commits.set(sha, commit);
    return sha;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    const url = new URL(req.url ?? "/", this.baseUrl);
    this.requests.push({ method: req.method ?? "GET", path: url.pathname + url.search, body, headers: req.headers });
    const send = (status: number, data: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
      res.end(JSON.stringify(data));
    };
    try {
      if (url.pathname.startsWith("/anthropic/")) return this.anthropic(url, body as Record<string, unknown>, send);
      if (url.pathname.startsWith("/github/")) return this.github(req.method ?? "GET", url, body as Record<string, unknown>, send);
      send(404, { message: "Not Found" });
    } catch (err) {
      send(500, { message: (err as Error).message });
    }
  }

  private anthropic(url: URL, body: Record<string, unknown>, send: (s: number, d: unknown, h?: Record<string, string>) => void): void {
    if (url.pathname !== "/anthropic/v1/messages") return send(404, { type: "error", error: { type: "not_found_error", message: "Not found" } });
    this.anthropicRequests.push(body);
    const reply = this.anthropicQueue.shift();
    if (!reply) return send(500, { type: "error", error: { type: "api_error", message: "fake: no reply queued" } }, { "x-should-retry": "false" });
    if ("status" in reply) {
      return send(reply.status, { type: "error", error: reply.error, request_id: `req_${this.nextId++}` }, { "retry-after-ms": "5", "request-id": `req_${this.nextId++}`, ...reply.headers });
    }
    send(
      200,
      {
        id: `msg_${this.nextId++}`,
        type: "message",
        role: "assistant",
        model: String(body.model),
        content: reply.content,
        stop_reason: reply.stop_reason ?? "tool_use",
        stop_sequence: null,
        usage: { input_tokens: 1200, output_tokens: 300, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
      },
      { "request-id": `req_${this.nextId++}` },
    );
  }

  private github(method: string, url: URL, body: Record<string, unknown>, send: (s: number, d: unknown) => void): void {
    const notFound = () => send(404, { message: "Not Found", documentation_url: "https://docs.github.com/rest", status: "404" });
    const m = /^\/github\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(url.pathname);
    if (!m) return notFound();
    const repo = this.repo(`${m[1]}/${m[2]}`);
    if (!repo) return notFound();
    const rest = decodeURIComponent(m[3] ?? "");
    const full = `${repo.owner}/${repo.name}`;
    const api = `${this.githubUrl}/repos/${full}`;
    const html = `https://github.com/${full}`;
    const resolveRef = (ref: string) => repo.refs.get(`heads/${ref}`) ?? repo.refs.get(`tags/${ref}`) ?? (repo.commits.has(ref) ? ref : undefined);

    if (method === "GET" && rest === "") {
      return send(200, {
        id: repo.id,
        node_id: `R_${repo.id}`,
        name: repo.name,
        full_name: full,
        private: false,
        owner: { login: repo.owner, id: 1, type: "Organization" },
        html_url: html,
        description: repo.description,
        fork: false,
        url: api,
        homepage: null,
        stargazers_count: 42,
        archived: false,
        topics: ["mcp"],
        default_branch: repo.defaultBranch,
        visibility: "public",
      });
    }
    if (method === "GET" && rest === "/releases/latest") {
      if (!repo.latestRelease) return notFound();
      return send(200, { id: 1, tag_name: repo.latestRelease, name: repo.latestRelease, draft: false, prerelease: false, html_url: `${html}/releases/tag/${repo.latestRelease}` });
    }
    let t = /^\/git\/trees\/(.+)$/.exec(rest);
    if (method === "GET" && t) {
      const sha = resolveRef(t[1]!);
      const commit = sha ? repo.commits.get(sha) : undefined;
      const tree = commit ? repo.trees.get(commit.tree) : repo.trees.get(t[1]!);
      if (!tree) return notFound();
      return send(200, {
        sha: commit?.tree ?? t[1],
        url: `${api}/git/trees/${commit?.tree ?? t[1]}`,
        tree: [...tree].map(([p, s]) => ({ path: p, mode: "100644", type: "blob", sha: s, size: Buffer.byteLength(repo.blobs.get(s) ?? ""), url: `${api}/git/blobs/${s}` })),
        truncated: false,
      });
    }
    t = /^\/contents\/(.+)$/.exec(rest);
    if (method === "GET" && t) {
      const ref = url.searchParams.get("ref") ?? repo.defaultBranch;
      const sha = resolveRef(ref);
      const commit = sha ? repo.commits.get(sha) : undefined;
      const blobSha = commit ? repo.trees.get(commit.tree)?.get(t[1]!) : undefined;
      if (!blobSha) return notFound();
      const text = repo.blobs.get(blobSha) ?? "";
      const content = Buffer.from(text).toString("base64").replace(/(.{60})/g, "$1\n");
      return send(200, {
        type: "file",
        encoding: "base64",
        size: Buffer.byteLength(text),
        name: path.posix.basename(t[1]!),
        path: t[1],
        content,
        sha: blobSha,
        url: `${api}/contents/${t[1]}?ref=${ref}`,
        git_url: `${api}/git/blobs/${blobSha}`,
        html_url: `${html}/blob/${ref}/${t[1]}`,
        download_url: `https://raw.githubusercontent.com/${full}/${ref}/${t[1]}`,
        _links: { self: `${api}/contents/${t[1]}`, git: `${api}/git/blobs/${blobSha}`, html: `${html}/blob/${ref}/${t[1]}` },
      });
    }
    t = /^\/git\/(?:ref|refs)\/(heads\/.+|tags\/.+)$/.exec(rest);
    if (t && method === "GET") {
      const sha = repo.refs.get(t[1]!);
      if (!sha) return notFound();
      return send(200, { ref: `refs/${t[1]}`, node_id: "REF_1", url: `${api}/git/refs/${t[1]}`, object: { sha, type: "commit", url: `${api}/git/commits/${sha}` } });
    }
    if (t && method === "PATCH") {
      if (!repo.refs.has(t[1]!)) return send(422, { message: "Reference does not exist" });
      const sha = String(body.sha);
      const old = repo.refs.get(t[1]!)!;
      if (!body.force && !this.isAncestor(repo, old, sha)) return send(422, { message: "Update is not a fast forward" });
      repo.refs.set(t[1]!, sha);
      return send(200, { ref: `refs/${t[1]}`, url: `${api}/git/refs/${t[1]}`, object: { sha, type: "commit", url: `${api}/git/commits/${sha}` } });
    }
    if (method === "POST" && rest === "/git/refs") {
      const ref = String(body.ref).replace(/^refs\//, "");
      if (repo.refs.has(ref)) return send(422, { message: "Reference already exists" });
      if (!repo.commits.has(String(body.sha))) return send(422, { message: "Object does not exist" });
      repo.refs.set(ref, String(body.sha));
      return send(201, { ref: `refs/${ref}`, url: `${api}/git/refs/${ref}`, object: { sha: body.sha, type: "commit", url: `${api}/git/commits/${String(body.sha)}` } });
    }
    t = /^\/git\/commits\/([0-9a-f]+)$/.exec(rest);
    if (method === "GET" && t) {
      const c = repo.commits.get(t[1]!);
      if (!c) return notFound();
      return send(200, { sha: t[1], url: `${api}/git/commits/${t[1]}`, message: c.message, tree: { sha: c.tree, url: `${api}/git/trees/${c.tree}` }, parents: c.parents.map((p) => ({ sha: p, url: `${api}/git/commits/${p}` })) });
    }
    if (method === "POST" && rest === "/git/blobs") {
      const text = body.encoding === "base64" ? Buffer.from(String(body.content), "base64").toString("utf8") : String(body.content);
      const sha = this.putBlob(repo, text);
      return send(201, { sha, url: `${api}/git/blobs/${sha}` });
    }
    if (method === "POST" && rest === "/git/trees") {
      const baseTree = body.base_tree ? repo.trees.get(String(body.base_tree)) : new Map<string, string>();
      if (!baseTree) return send(422, { message: "base_tree not found" });
      const entries = new Map(baseTree);
      for (const e of body.tree as { path: string; sha: string | null }[]) {
        if (e.sha === null) entries.delete(e.path);
        else {
          if (!repo.blobs.has(e.sha)) return send(422, { message: `tree.sha ${e.sha} is not a valid blob` });
          entries.set(e.path, e.sha);
        }
      }
      const sha = this.putTree(repo, entries);
      return send(201, { sha, url: `${api}/git/trees/${sha}`, tree: [...entries].map(([p, s]) => ({ path: p, mode: "100644", type: "blob", sha: s })), truncated: false });
    }
    if (method === "POST" && rest === "/git/commits") {
      if (!repo.trees.has(String(body.tree))) return send(422, { message: "Tree not found" });
      const sha = this.putCommit(repo, { tree: String(body.tree), parents: (body.parents as string[]) ?? [], message: String(body.message) });
      return send(201, { sha, node_id: "C_1", url: `${api}/git/commits/${sha}`, html_url: `${html}/commit/${sha}`, message: body.message, tree: { sha: body.tree, url: `${api}/git/trees/${String(body.tree)}` }, parents: ((body.parents as string[]) ?? []).map((p) => ({ sha: p })) });
    }
    const prJson = (p: FakeRepo["pulls"][number]) => ({
      id: 5000 + p.number,
      number: p.number,
      state: p.state,
      title: p.title,
      body: p.body,
      url: `${api}/pulls/${p.number}`,
      html_url: `${html}/pull/${p.number}`,
      head: { ref: p.head, label: `${repo.owner}:${p.head}`, sha: repo.refs.get(`heads/${p.head}`) },
      base: { ref: p.base, label: `${repo.owner}:${p.base}` },
      draft: false,
    });
    if (rest === "/pulls" && method === "GET") {
      const head = url.searchParams.get("head");
      const state = url.searchParams.get("state") ?? "open";
      return send(200, repo.pulls.filter((p) => (state === "all" || p.state === state) && (!head || `${repo.owner}:${p.head}` === head)).map(prJson));
    }
    if (rest === "/pulls" && method === "POST") {
      const head = String(body.head);
      if (!repo.refs.has(`heads/${head}`)) return send(422, { message: "Validation Failed", errors: [{ resource: "PullRequest", field: "head", code: "invalid" }] });
      if (repo.pulls.some((p) => p.head === head && p.state === "open")) return send(422, { message: "Validation Failed", errors: [{ resource: "PullRequest", code: "custom", message: `A pull request already exists for ${repo.owner}:${head}.` }] });
      const number = repo.pulls.length + repo.comments.length + 1;
      const pr = { number, title: String(body.title), body: String(body.body ?? ""), head, base: String(body.base), state: "open" as const };
      repo.pulls.push(pr);
      return send(201, prJson(pr));
    }
    t = /^\/pulls\/(\d+)$/.exec(rest);
    if (t && method === "PATCH") {
      const pr = repo.pulls.find((p) => p.number === Number(t![1]));
      if (!pr) return notFound();
      if (typeof body.title === "string") pr.title = body.title;
      if (typeof body.body === "string") pr.body = body.body;
      return send(200, prJson(pr));
    }
    t = /^\/issues\/(\d+)\/comments$/.exec(rest);
    if (t && method === "POST") {
      const id = this.nextId++;
      repo.comments.push({ issue: Number(t[1]), body: String(body.body), id });
      return send(201, { id, node_id: `IC_${id}`, url: `${api}/issues/comments/${id}`, html_url: `${html}/issues/${t[1]}#issuecomment-${id}`, body: body.body, user: { login: "github-actions[bot]" }, created_at: new Date().toISOString() });
    }
    notFound();
  }

  private isAncestor(repo: FakeRepo, ancestor: string, of: string): boolean {
    let sha: string | undefined = of;
    while (sha) {
      if (sha === ancestor) return true;
      sha = repo.commits.get(sha)?.parents[0];
    }
    return false;
  }
}
