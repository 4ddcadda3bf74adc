/**
 * Reads how a README says to start a server: `mcpServers` JSON snippets (Claude Desktop, Cursor,
 * VS Code `servers`), and `npx -y` / `uvx` / `docker run -i` / `claude mcp add` command lines.
 * Pure functions over text; each finding remembers the line it came from.
 */

export type Runtime = "npx" | "uvx" | "docker" | "remote";

export interface RunCommand {
  runtime: Runtime;
  /** npm/PyPI package name, image reference without tag, or the remote URL. */
  identifier: string;
  /** Version or tag written in the command (`pkg@1.2.3`, `pkg==1.2.3`, `image:1.2.3`). */
  version?: string;
  /** For remotes. */
  transport?: "streamable-http" | "sse";
  /** Arguments after the package/image. */
  args: string[];
  /** Environment variable names given to it (`env` block, `-e NAME`). */
  env: string[];
  /** `docker run` flags besides `-i`, `--rm`, `-e` and the like (`-v /:/host`, `--privileged`): never proposed, but reported as dropped. */
  runtimeFlags?: { name: string; value?: string }[];
  /** Where: 1-based line in the text, and which kind of snippet. */
  line: number;
  via: "mcpServers" | "command";
}

/** `docker run` flags that say what the launcher does anyway (or only name the container). */
const IMPLIED_DOCKER_FLAGS = new Set(["-i", "--interactive", "-t", "--tty", "-it", "-ti", "--rm", "--init", "--name", "-d", "--detach"]);

/** Packages that wrap or inspect servers rather than being one. */
const WRAPPERS = new Set(["@modelcontextprotocol/inspector", "@smithery/cli", "tsx", "ts-node", "typescript", "node", "npm", "pnpm", "yarn", "bun", "create-mcp-server", "@anthropic-ai/claude-code", "supergateway"]);

interface Block {
  lang: string;
  text: string;
  line: number;
}

export function codeBlocks(markdown: string): Block[] {
  const out: Block[] = [];
  // `[ \t]*` after the fence, not `\s*`: a fence with no language must not take the next line's first word for one.
  const re = /^([ \t]*)(```|~~~)[ \t]*([\w+-]*)[^\n]*\n([\s\S]*?)^\1?\2[ \t]*$/gm;
  for (let m = re.exec(markdown); m; m = re.exec(markdown)) {
    const line = markdown.slice(0, m.index).split("\n").length + 1;
    out.push({ lang: (m[3] ?? "").toLowerCase(), text: m[4] ?? "", line });
  }
  return out;
}

/** Every run command a README (or any markdown) shows. */
export function findRunCommands(markdown: string): RunCommand[] {
  const found: RunCommand[] = [];
  for (const block of codeBlocks(markdown)) {
    const json = looseJson(block.text);
    if (json !== undefined) {
      for (const [server, lineOffset] of serverEntries(json, block.text)) {
        const cmd = fromConfigEntry(server, block.line + lineOffset);
        if (cmd) found.push(cmd);
      }
      continue;
    }
    block.text.split("\n").forEach((l, i) => {
      const cmd = fromCommandLine(l, block.line + i) ?? bareEndpoint(l, block.line + i);
      if (cmd) found.push(cmd);
    });
  }
  // Inline code spans: `npx -y pkg`, `uvx pkg`.
  markdown.split("\n").forEach((l, i) => {
    for (const m of l.matchAll(/`((?:npx|uvx|docker run|claude mcp add)[^`]+)`/g)) {
      const cmd = fromCommandLine(m[1] ?? "", i + 1);
      if (cmd && !found.some((f) => f.identifier === cmd.identifier && f.runtime === cmd.runtime)) found.push(cmd);
    }
  });
  return found;
}

/**
 * A code block line that is only an MCP endpoint (`https://mcp.example.com/mcp`, `.../sse`): how a
 * remote-only server tells users where to connect. The query string (often a token placeholder) is
 * not part of the server's address.
 */
function bareEndpoint(raw: string, line: number): RunCommand | undefined {
  const m = /^\s*(https:\/\/[^\s/?#]+(?:\/[^\s?#]*)?\/(mcp|sse))\/?(?:\?\S*)?\s*$/.exec(raw);
  if (!m || /localhost|127\.0\.0\.1|example\.(com|org)|your[-_.]/i.test(m[1]!)) return undefined;
  return { runtime: "remote", identifier: m[1]!, transport: m[2] === "sse" ? "sse" : "streamable-http", args: [], env: [], line, via: "command" };
}

/** JSON with comments and trailing commas, or a bare `"name": {...}` fragment; undefined if not JSON. */
export function looseJson(text: string): unknown {
  const t = text.trim();
  if (!/^[[{"]/.test(t)) return undefined;
  const cleaned = t
    .replace(/("(?:[^"\\]|\\.)*")|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (_m, s: string | undefined) => s ?? "")
    .replace(/,(\s*[}\]])/g, "$1");
  for (const candidate of [cleaned, `{${cleaned}}`]) {
    try {
      return JSON.parse(candidate);
    } catch {
      // try the next form
    }
  }
  return undefined;
}

/** Server entries of a config document: `mcpServers`, `servers`, `mcp.servers`, or the document itself. */
function serverEntries(doc: unknown, text: string): [Record<string, unknown>, number][] {
  const out: [Record<string, unknown>, number][] = [];
  const visit = (node: unknown, depth: number) => {
    if (!node || typeof node !== "object" || depth > 5) return;
    if (Array.isArray(node)) {
      node.forEach((n) => visit(n, depth + 1));
      return;
    }
    const obj = node as Record<string, unknown>;
    if (typeof obj.command === "string" || typeof obj.url === "string" || typeof obj.serverUrl === "string" || typeof obj.httpUrl === "string") {
      const key = typeof obj.command === "string" ? obj.command : String(obj.url ?? obj.serverUrl ?? obj.httpUrl);
      const idx = text.indexOf(JSON.stringify(key).slice(1, -1));
      out.push([obj, idx >= 0 ? text.slice(0, idx).split("\n").length - 1 : 0]);
      return;
    }
    for (const v of Object.values(obj)) visit(v, depth + 1);
  };
  visit(doc, 0);
  return out;
}

function fromConfigEntry(entry: Record<string, unknown>, line: number): RunCommand | undefined {
  const env = entry.env && typeof entry.env === "object" ? Object.keys(entry.env as object) : [];
  const url = typeof entry.url === "string" ? entry.url : typeof entry.serverUrl === "string" ? entry.serverUrl : typeof entry.httpUrl === "string" ? entry.httpUrl : undefined;
  if (url && /^https?:\/\//.test(url) && !/localhost|127\.0\.0\.1/.test(url)) {
    const type = String(entry.type ?? entry.transport ?? "");
    return { runtime: "remote", identifier: url, transport: type === "sse" || /\/sse\/?$/.test(url) ? "sse" : "streamable-http", args: [], env, line, via: "mcpServers" };
  }
  if (typeof entry.command !== "string") return undefined;
  const args = Array.isArray(entry.args) ? entry.args.filter((a): a is string => typeof a === "string") : [];
  const cmd = fromArgv([...splitWords(entry.command), ...args], line, "mcpServers");
  if (cmd) cmd.env = [...new Set([...cmd.env, ...env])];
  return cmd;
}

function fromCommandLine(raw: string, line: number): RunCommand | undefined {
  let l = raw.replace(/^\s*[$>#]\s+/, "").replace(/\\\s*$/, "").trim();
  const mcpAdd = /^claude mcp add\b(.*)$/.exec(l);
  if (mcpAdd) {
    const rest = mcpAdd[1] ?? "";
    const dashdash = rest.indexOf(" -- ");
    if (dashdash >= 0) l = rest.slice(dashdash + 4).trim();
    else {
      const url = /(https?:\/\/\S+)/.exec(rest)?.[1];
      if (!url) return undefined;
      const sse = /--transport\s+sse|-t\s+sse/.test(rest);
      return { runtime: "remote", identifier: url.replace(/["']/g, ""), transport: sse ? "sse" : "streamable-http", args: [], env: [], line, via: "command" };
    }
  }
  // A shell comment ends the command (`semgrep-mcp # see --help for more options`).
  const words = splitWords(l.replace(/(^|\s)#.*$/, ""));
  // Leading `NAME=value` assignments are env vars for the command.
  const env: string[] = [];
  while (words[0] && /^[A-Z][A-Z0-9_]*=/.test(words[0])) env.push(words.shift()!.split("=")[0]!);
  if (!["npx", "uvx", "docker", "bunx", "pnpm"].includes(words[0] ?? "")) return undefined;
  const cmd = fromArgv(words, line, "command");
  if (cmd) cmd.env = [...new Set([...env, ...cmd.env])];
  return cmd;
}

/** A run command from an argv: `npx -y pkg@1 args`, `uvx pkg args`, `docker run -i --rm -e X image args`. */
export function fromArgv(argv: string[], line: number, via: RunCommand["via"]): RunCommand | undefined {
  const [command, ...rest] = argv;
  const base = (command ?? "").split("/").pop() ?? "";
  if (base === "npx" || base === "bunx" || (base === "pnpm" && rest[0] === "dlx")) {
    const args = base === "pnpm" ? rest.slice(1) : rest;
    let i = 0;
    while (i < args.length && args[i]!.startsWith("-")) i += args[i] === "-p" || args[i] === "--package" ? 2 : 1;
    const spec = args[i];
    if (!spec) return undefined;
    const { name, version } = splitNpmSpec(spec);
    if (name === "mcp-remote") {
      const url = args.slice(i + 1).find((a) => /^https?:\/\//.test(a));
      return url ? { runtime: "remote", identifier: url, transport: /\/sse\/?$/.test(url) ? "sse" : "streamable-http", args: [], env: [], line, via } : undefined;
    }
    if (WRAPPERS.has(name)) {
      // `npx @modelcontextprotocol/inspector npx -y pkg` wraps the real command.
      return fromArgv(args.slice(i + 1), line, via);
    }
    if (!/^(@[a-z0-9._~-]+\/)?[a-z0-9._~-]+$/i.test(name)) return undefined;
    return { runtime: "npx", identifier: name, ...(version ? { version } : {}), args: args.slice(i + 1), env: [], line, via };
  }
  if (base === "uvx" || (base === "uv" && rest[0] === "tool" && rest[1] === "run")) {
    const args = base === "uv" ? rest.slice(2) : rest;
    let from: string | undefined;
    let i = 0;
    while (i < args.length && args[i]!.startsWith("-")) {
      if (args[i] === "--from") {
        from = args[i + 1];
        i += 2;
      } else i += args[i] === "--python" || args[i] === "--with" ? 2 : 1;
    }
    const spec = from ?? args[i];
    if (!spec || /^(\.|\/|git\+)/.test(spec)) return undefined;
    const m = /^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?(?:(?:==|@)([0-9][\w.+-]*))?$/.exec(spec);
    if (!m) return undefined;
    return { runtime: "uvx", identifier: m[1]!.toLowerCase(), ...(m[2] ? { version: m[2] } : {}), args: args.slice(i + 1), env: [], line, via };
  }
  if (base === "docker" && rest[0] === "run") {
    const env: string[] = [];
    let i = 1;
    const withValue = new Set([
      "-e", "--env", "-v", "--volume", "--name", "--network", "--net", "-p", "--publish", "--mount", "--env-file", "-w", "--workdir", "-u", "--user", "--entrypoint", "--platform", "-m", "--memory",
      "--cap-add", "--cap-drop", "--device", "--security-opt", "--pid", "--ipc", "--uts", "--userns", "--cgroupns", "--cpus", "--memory-swap", "--shm-size", "--pids-limit", "--tmpfs", "--ulimit", "--gpus", "--runtime",
      "--add-host", "--dns", "-h", "--hostname", "-l", "--label", "--restart", "--log-driver", "--group-add", "--volumes-from", "--link", "--cidfile", "--stop-signal",
    ]);
    const runtimeFlags: { name: string; value?: string }[] = [];
    while (i < rest.length && rest[i]!.startsWith("-")) {
      const flag = rest[i]!;
      const [f, inline] = flag.includes("=") && flag.startsWith("--") ? [flag.slice(0, flag.indexOf("=")), flag.slice(flag.indexOf("=") + 1)] : [flag, undefined];
      const value = withValue.has(f) ? (inline ?? rest[i + 1]) : inline;
      if (f === "-e" || f === "--env") {
        const name = (value ?? "").split("=")[0] ?? "";
        if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) env.push(name);
      } else if (!IMPLIED_DOCKER_FLAGS.has(f)) {
        runtimeFlags.push({ name: f, ...(value !== undefined ? { value } : {}) });
      }
      i += withValue.has(f) && inline === undefined ? 2 : 1;
    }
    const image = rest[i];
    if (!image || image.startsWith("$")) return undefined;
    const { repo, tag } = splitImage(image);
    return { runtime: "docker", identifier: repo, ...(tag ? { version: tag } : {}), args: rest.slice(i + 1), env, ...(runtimeFlags.length ? { runtimeFlags } : {}), line, via };
  }
  return undefined;
}

export function splitNpmSpec(spec: string): { name: string; version?: string } {
  const at = spec.lastIndexOf("@");
  if (at > 0) {
    const version = spec.slice(at + 1);
    return { name: spec.slice(0, at), ...(version ? { version } : {}) };
  }
  return { name: spec };
}

export function splitImage(image: string): { repo: string; tag?: string } {
  const digest = image.indexOf("@");
  if (digest >= 0) return { repo: image.slice(0, digest), tag: image.slice(digest + 1) };
  const slash = image.lastIndexOf("/");
  const colon = image.lastIndexOf(":");
  if (colon > slash) return { repo: image.slice(0, colon), tag: image.slice(colon + 1) };
  return { repo: image };
}

/** Splits a command line into words, honouring simple quotes. */
export function splitWords(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3] ?? "");
  return out;
}
