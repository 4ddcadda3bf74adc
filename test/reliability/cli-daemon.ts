/**
 * The daemon as users run it: `mcp-router serve` in a child process (the real composition root,
 * JSON logs on stderr, secrets from a secrets file and the environment, API key and webhook
 * secret from the environment), over a registry directory or a git remote. Plus the suite's probe
 * image and the registry files that run it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import Docker from "dockerode";
import type { SyncStatus } from "../../src/sync/reconciler.js";
import { ensureTestImages, run } from "../support/docker.js";
import { waitFor } from "./figures.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "../..");

let probeImage: Promise<string> | undefined;

/** Builds (once, cached by content hash) the suite's probe server image on the test node base. */
export function ensureReliabilityProbe(): Promise<string> {
  probeImage ??= (async () => {
    const { nodeBase } = await ensureTestImages();
    const source = await readFile(path.join(here, "reliability-probe.mjs"));
    const tag = `mcp-router-test/reliability-probe:${createHash("sha256").update(source).update(nodeBase).digest("hex").slice(0, 12)}`;
    const exists = await new Docker()
      .getImage(tag)
      .inspect()
      .then(() => true, () => false);
    if (!exists) {
      const dir = await mkdtemp(path.join(tmpdir(), "mcp-router-rel-probe-"));
      try {
        await copyFile(path.join(here, "reliability-probe.mjs"), path.join(dir, "probe.mjs"));
        await writeFile(path.join(dir, "Dockerfile"), `FROM ${nodeBase}\nCOPY probe.mjs /opt/rel/probe.mjs\nENTRYPOINT ["node", "/opt/rel/probe.mjs"]\n`);
        await run("docker", ["build", "-q", "-t", tag, dir]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    return tag;
  })();
  return probeImage;
}

export interface ProbeOptions {
  timeoutSeconds?: number;
  network?: "none" | "bridge";
  lifecycle?: "per-call" | "per-session" | "shared";
  /** Declares PROBE_TOKEN (secrets file) and PROBE_ENV_TOKEN (daemon env, MCP_ROUTER_SECRET_PROBE_ENV_TOKEN) as required secrets. */
  secrets?: boolean;
  /** The server never answers initialize. */
  hangInit?: boolean;
  /** Changes the file's hash (and description) without changing behaviour. */
  generation?: number;
}

/** A registry file that runs the probe image as an `oci` package, with a reviewed tool catalog (no discovery container). */
export function probeYaml(prefix: string, image: string, o: ProbeOptions = {}): string {
  const env: string[] = [];
  if (o.secrets) {
    env.push("      - name: PROBE_TOKEN\n        description: planted secret from the secrets file\n        isRequired: true\n        isSecret: true");
    env.push("      - name: PROBE_ENV_TOKEN\n        description: planted secret from the daemon's environment\n        isRequired: true\n        isSecret: true");
  }
  if (o.hangInit) env.push('      - name: PROBE_HANG_INIT\n        description: never answer initialize\n        value: "1"');
  const limits = o.timeoutSeconds ? `\n  limits:\n    timeoutSeconds: ${o.timeoutSeconds}` : "";
  const tools = ["echo", "hang", "crash", "fail", "connect", "dns"]
    .map((t) => `    - name: ${t}\n      description: reliability probe ${t}\n      inputSchema:\n        type: object`)
    .join("\n");
  return `name: dev.mcp-router.reliability/${prefix}
description: reliability probe ${prefix} (generation ${o.generation ?? 0})
version: 1.0.${o.generation ?? 0}
packages:
  - registryType: oci
    identifier: ${image}
    runtimeHint: docker
    transport:
      type: stdio${env.length ? `\n    environmentVariables:\n${env.join("\n")}` : ""}
router:
  prefix: ${prefix}
  lifecycle: ${o.lifecycle ?? "per-call"}
  network: ${o.network ?? "none"}${limits}
  tools:
${tools}
`;
}

export interface CliDaemonOptions {
  owner: string;
  /** Server files for a local registry directory (ignored with `git`). */
  files?: Record<string, string>;
  git?: { url: string; pollSeconds: number };
  /** Values in the secrets file (--secrets-file). */
  secretsFile?: Record<string, string>;
  /** More environment for the daemon (secrets from its environment, MCP_ROUTER_WEBHOOK_SECRET). */
  env?: Record<string, string>;
  /** More `serve` options. */
  extraArgs?: string[];
}

export interface CliDaemon {
  readonly url: URL;
  readonly key: string;
  readonly registryDir: string;
  readonly serversDir: string;
  readonly child: ChildProcess;
  /** Everything the daemon wrote to stderr so far (its JSON log). */
  log(): string;
  status(): Promise<SyncStatus>;
  /** Waits until the daemon applied a revision other than `previous` (or any, when undefined). */
  waitApplied(previous: string | undefined, timeoutMs?: number): Promise<SyncStatus>;
  client(name?: string): Promise<Client>;
  fetch(pathname: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function startCliDaemon(options: CliDaemonOptions): Promise<CliDaemon> {
  const { nodeBase } = await ensureTestImages();
  const dir = await mkdtemp(path.join(tmpdir(), "mcp-router-rel-daemon-"));
  const registryDir = path.join(dir, "registry");
  const serversDir = path.join(registryDir, "servers");
  await mkdir(serversDir, { recursive: true });
  for (const [name, text] of Object.entries(options.files ?? {})) await writeFile(path.join(serversDir, name), text);
  const secretsPath = path.join(dir, "secrets.env");
  await writeFile(secretsPath, Object.entries(options.secretsFile ?? {}).map(([k, v]) => `${k}=${v}\n`).join(""), { mode: 0o600 });
  // Row 8 compares a probe without egress to one with `network: bridge`: the operator allows bridge here.
  const policyPath = path.join(dir, "policy.yaml");
  await writeFile(policyPath, "network:\n  bridge: true\n");
  const key = `rel-key-${options.owner}-${createHash("sha256").update(dir).digest("hex").slice(0, 16)}`;
  const args = [
    "--import", import.meta.resolve("tsx"), path.join(repoRoot, "src/bin.ts"),
    "--secrets-file", secretsPath,
    "--policy", policyPath,
    "serve", "--port", "0", "--data-dir", path.join(dir, "data"), "--log-level", "debug",
    ...(options.extraArgs ?? []),
    ...(options.git ? ["--git", options.git.url, "--branch", "main", "--git-subdir", "registry", "--poll", String(options.git.pollSeconds)] : ["--registry", registryDir]),
  ];
  const child = spawn(process.execPath, args, {
    cwd: dir,
    env: {
      ...process.env,
      MCP_ROUTER_API_KEYS: key,
      MCP_ROUTER_OWNER: options.owner,
      MCP_ROUTER_NODE_IMAGE: nodeBase,
      MCP_ROUTER_WARM_POOL: "off",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  child.stdout?.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const url = await Promise.race([
    waitFor(
      "the daemon to listen",
      () => {
        const match = /mcp-router listening: (http:\/\/\S+?)mcp /.exec(stderr);
        return match?.[1] ? new URL(match[1]) : undefined;
      },
      60_000,
    ),
    exited.then(({ code }) => {
      throw new Error(`the daemon exited with ${code} before listening:\n${stderr.slice(-3000)}`);
    }),
  ]);
  const authorized = (init: RequestInit = {}): RequestInit => ({ ...init, headers: { authorization: `Bearer ${key}`, ...(init.headers as Record<string, string> | undefined) } });
  const daemon: CliDaemon = {
    url,
    key,
    registryDir,
    serversDir,
    child,
    log: () => stderr,
    fetch: (pathname, init) => fetch(new URL(pathname, url), authorized(init)),
    async status() {
      const res = await fetch(new URL("status", url), authorized());
      if (res.status !== 200) throw new Error(`GET /status answered ${res.status}`);
      return (await res.json()) as SyncStatus;
    },
    waitApplied(previous, timeoutMs = 30_000) {
      return waitFor(
        "a new revision to be applied",
        async () => {
          const s = await daemon.status();
          return s.ready && s.lastAppliedRevision !== undefined && s.lastAppliedRevision !== previous ? s : undefined;
        },
        timeoutMs,
        100,
      );
    },
    async client(name = "reliability") {
      const client = new Client({ name, version: "1.0.0" });
      await client.connect(new StreamableHTTPClientTransport(new URL("mcp", url), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
      return client;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      const result = await exited;
      clearTimeout(timer);
      await rm(dir, { recursive: true, force: true });
      return result;
    },
  };
  await daemon.waitApplied(undefined, 60_000);
  return daemon;
}

/** Every occurrence of any of `needles` in `haystack`, as "needle@offset: context" lines. */
export function secretHits(haystack: string, needles: readonly string[], where: string): string[] {
  const hits: string[] = [];
  for (const needle of needles) {
    let at = haystack.indexOf(needle);
    while (at >= 0) {
      const context = haystack.slice(Math.max(0, at - 60), at + needle.length + 20).split(needle).join("<planted secret>");
      hits.push(`${where} at ${at}: ${context.replace(/\s+/g, " ")}`);
      at = haystack.indexOf(needle, at + 1);
    }
  }
  return hits;
}
