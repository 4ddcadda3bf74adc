/**
 * Reliability suite, part 1: faults against one running daemon (`mcp-router serve` in a child
 * process, real Docker, the suite's probe image). Rows: no egress without a declaration; a
 * container killed mid-call; a hung tool and a server that never initializes; secrets never in
 * logs, audit lines, MCP errors, container argv or PR bodies; HTTP auth, Origin and Host checks;
 * webhook signatures; 500 malformed registry files. Prints its section of the table at the end.
 */
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { createHmac } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { Command } from "commander";
import Docker from "dockerode";
import { bridgeGateway } from "../../src/launch/docker/bridge-gateway.js";
import { TOOL_NAME } from "../../src/propose/claude-proposer.js";
import { registerProposeCommands } from "../../src/cli/propose-command.js";
import { loadRegistry } from "../../src/registry/loader.js";
import { dockerAvailable, listOurContainers, requireDocker, run } from "../support/docker.js";
import { FakeApis } from "../support/fake-apis.js";
import { ensureReliabilityProbe, probeYaml, secretHits, startCliDaemon, type CliDaemon } from "./cli-daemon.js";
import { Figures, since, waitFor } from "./figures.js";
import { malformedCorpus } from "./malformed-files.js";

const OWNER = "rel-faults";
const docker = new Docker();
const figures = new Figures("daemon faults and security");
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

// Planted secret values: distinctive, so a grep finds any copy.
const SECRET_FILE = "rel-planted-file-7f3a9c1e5b2d";
const SECRET_ENV = "rel-planted-env-4c8e2a6f0d91";
const WEBHOOK_SECRET = "rel-planted-hook-9b1d7e3c5a20";
const PROPOSE_SECRET = "sk-live-relplanted-3e7a1c9f5b2d8e4a";

/** Every MCP error message any call of this file received (grepped for secrets at the end). */
const errorMessages: string[] = [];
/** Config.Cmd / Entrypoint / Args / Path of every container this file saw, and their Env. */
const argvSeen: string[] = [];
const envSeen: string[] = [];
const containersSeen = new Set<string>();

function text(result: CallToolResult): string {
  const first = result.content[0];
  return first && first.type === "text" ? first.text : JSON.stringify(result.content);
}

/** Calls a tool; resolves with the result, or the error message (recorded for the secret grep). */
async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<{ ok: boolean; text: string; ms: number }> {
  const t0 = performance.now();
  try {
    const result = (await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as CallToolResult;
    if (result.isError) errorMessages.push(text(result));
    return { ok: !result.isError, text: text(result), ms: since(t0) };
  } catch (error) {
    errorMessages.push((error as Error).message);
    return { ok: false, text: (error as Error).message, ms: since(t0) };
  }
}

/** Inspects (once) every container of ours for `server`, recording argv and env. */
async function inspectContainers(server?: string): Promise<Docker.ContainerInspectInfo[]> {
  const list = (await listOurContainers(OWNER)).filter((c) => !server || c.Labels["dev.mcp-router.server"] === server);
  const out: Docker.ContainerInspectInfo[] = [];
  for (const c of list) {
    const info = await docker.getContainer(c.Id).inspect().catch(() => undefined);
    if (!info) continue;
    out.push(info);
    if (containersSeen.has(info.Id)) continue;
    containersSeen.add(info.Id);
    argvSeen.push(JSON.stringify({ path: info.Path, args: info.Args, cmd: info.Config.Cmd, entrypoint: info.Config.Entrypoint }));
    envSeen.push(JSON.stringify(info.Config.Env));
  }
  return out;
}

/** The running containers of `server` (inspected and recorded), or undefined when there are none yet. */
async function running(server: string): Promise<Docker.ContainerInspectInfo[] | undefined> {
  const list = (await inspectContainers(server)).filter((c) => c.State.Running);
  return list.length ? list : undefined;
}

/** Watches our containers while `during` runs, so short-lived ones are inspected too. */
async function watchContainers<T>(during: Promise<T>): Promise<T> {
  let done = false;
  const loop = (async () => {
    while (!done) {
      await inspectContainers().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  try {
    return await during;
  } finally {
    done = true;
    await loop;
  }
}

function rawHttp(url: URL, headers: Record<string, string>, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: body === undefined ? "GET" : "POST", headers: { ...headers, ...(body !== undefined ? { "content-type": "application/json" } : {}) } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** The host's address on the default bridge, found as the product finds it (a first engine start reports no Gateway). */
async function hostOnBridge(): Promise<string> {
  const gateway = bridgeGateway(await docker.getNetwork("bridge").inspect());
  assert.ok(gateway, "the default bridge has an IPv4 address for the host");
  return gateway;
}

describe("reliability: daemon faults and security", { timeout: 330_000 }, () => {
  let daemon: CliDaemon | undefined;
  let client: Client;
  let image: string;
  let auditFile: string | undefined;
  let tcp: Server | undefined;
  let daemonExit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const nonce = `hello-${process.pid}-${Date.now()}`;

  before(async () => {
    if (!(await dockerAvailable())) return;
    image = await ensureReliabilityProbe();
    await Promise.all((await listOurContainers(OWNER)).map((c) => docker.getContainer(c.Id).remove({ force: true })));
    // An audit log, when this checkout's `serve` has one (another change adds it).
    const help = await run(process.execPath, ["--import", import.meta.resolve("tsx"), path.join(repoRoot, "src/bin.ts"), "serve", "--help"]).catch(() => ({ stdout: "" }));
    const auditDir = /--audit-log <file>/.test(help.stdout) ? await mkdtemp(path.join(tmpdir(), "rel-audit-")) : undefined;
    auditFile = auditDir ? path.join(auditDir, "audit.jsonl") : undefined;
    daemon = await startCliDaemon({
      owner: OWNER,
      files: {
        "echo.yaml": probeYaml("echo", image),
        "keep.yaml": probeYaml("keep", image),
        "twin.yaml": probeYaml("twin", image),
        "slow.yaml": probeYaml("slow", image, { timeoutSeconds: 2 }),
        "mute.yaml": probeYaml("mute", image, { timeoutSeconds: 2, hangInit: true }),
        "vault.yaml": probeYaml("vault", image, { secrets: true, timeoutSeconds: 3 }),
        "sealed.yaml": probeYaml("sealed", image),
        "open.yaml": probeYaml("open", image, { network: "bridge" }),
      },
      secretsFile: { PROBE_TOKEN: SECRET_FILE },
      env: { MCP_ROUTER_SECRET_PROBE_ENV_TOKEN: SECRET_ENV, MCP_ROUTER_WEBHOOK_SECRET: WEBHOOK_SECRET },
      ...(auditFile ? { extraArgs: ["--audit-log", auditFile] } : {}),
    });
    client = await daemon.client();
    tcp = createServer((socket) => socket.end(`${nonce}\n`));
    await new Promise<void>((resolve) => tcp!.listen(0, "0.0.0.0", resolve));
  });

  after(async () => {
    await client?.close().catch(() => undefined);
    tcp?.close();
    if (daemon) {
      daemonExit = await daemon.stop();
      // Containers of ours: the daemon removes them on shutdown.
      const left = await listOurContainers(OWNER);
      figures.rows.push({ scenario: "cleanup", figure: `${left.length} containers left after shutdown`, expectation: "0", pass: left.length === 0 });
      figures.rows.push({ scenario: "cleanup", figure: `daemon exit ${daemonExit.code ?? daemonExit.signal}`, expectation: "0 on SIGTERM", pass: daemonExit.code === 0 });
    }
    figures.print();
    if (daemon) {
      assert.equal(daemonExit?.code, 0, "the daemon exits cleanly on SIGTERM");
      assert.deepEqual((await listOurContainers(OWNER)).map((c) => c.Id.slice(0, 12)), [], "no container of ours is left");
    }
  });

  it("8. no egress: a container without declared egress reaches nothing; with network: bridge the same probe succeeds", async (t) => {
    if (!(await requireDocker(t)) || !daemon) return;
    await figures.scenario("8. no egress", async () => {
      const port = (tcp!.address() as { port: number }).port;
      const host = await hostOnBridge();
      const sealed = await watchContainers(call(client, "sealed__connect", { host, port, timeoutMs: 3000 }));
      const sealedDns = await call(client, "sealed__dns", { host: "registry.npmjs.org" });
      const open = await watchContainers(call(client, "open__connect", { host, port, timeoutMs: 5000 }));
      const sealedResult = JSON.parse(sealed.text) as { ok: boolean; error?: string };
      const openResult = JSON.parse(open.text) as { ok: boolean; greeting?: string };
      figures.check("8. no egress", `network none: TCP to host ${host}:${port} ${sealedResult.ok ? "CONNECTED" : `failed (${sealedResult.error})`}`, "refused/unreachable", !sealedResult.ok, sealed.text);
      const dns = JSON.parse(sealedDns.text) as { resolved: boolean; error?: string };
      figures.check("8. no egress", `network none: DNS ${dns.resolved ? "RESOLVED" : `fails (${dns.error})`}`, "no resolution", !dns.resolved);
      figures.check("8. no egress", `network bridge: same probe ${openResult.ok && openResult.greeting === nonce ? "connected, greeting matches" : `failed (${open.text})`}`, "connects (the probe can succeed)", openResult.ok && openResult.greeting === nonce);
    });
  });

  it("2. a container killed mid-call: the client gets an MCP error naming the exit; the next call succeeds", async (t) => {
    if (!(await requireDocker(t)) || !daemon) return;
    await figures.scenario("2. container killed", async () => {
      const pending = call(client, "echo__hang");
      const [victim] = await waitFor("the call's container", () => running("echo"), 30_000);
      assert.ok(victim, "the call runs in a container");
      // Past MCP initialize (~0.3 s here) and into the tool, which never answers.
      await new Promise((r) => setTimeout(r, 1500));
      const t0 = performance.now();
      await docker.getContainer(victim.Id).kill();
      const failed = await pending;
      const errorMs = since(t0);
      figures.check("2. container killed", `error after ${errorMs} ms: "${failed.text.slice(0, 90)}…"`, "MCP error naming the exit code, < 5 s", !failed.ok && /exited with code \d+/.test(failed.text) && errorMs < 5000, failed.text);
      const next = await call(client, "echo__echo", { text: "after-kill" });
      figures.check("2. container killed", `next call: ${next.ok ? `ok in ${next.ms} ms` : next.text}`, "succeeds", next.ok && next.text === "after-kill");
      const left = await waitFor("the killed container to be removed", async () => ((await listOurContainers(OWNER)).some((c) => c.Id === victim.Id) ? undefined : true), 10_000).catch(() => false);
      figures.check("2. container killed", left ? "killed container removed" : "killed container LEFT", "removed", left === true);
    });
  });

  it("3. a hung tool ends at the server's timeout with its container removed", async (t) => {
    if (!(await requireDocker(t)) || !daemon) return;
    await figures.scenario("3. hung tool", async () => {
      const pending = watchContainers(call(client, "slow__hang"));
      const [hung] = await waitFor("the hung call's container", () => running("slow"), 30_000);
      const result = await pending;
      figures.check("3. hung tool (timeout 2 s)", `error after ${result.ms} ms: "${result.text.slice(0, 80)}…"`, "TIMEOUT error within 2 s + 3 s", !result.ok && /timed out/.test(result.text) && result.ms < 5000, result.text);
      assert.ok(hung, "the call runs in a container");
      const removed = await waitFor("the hung container to go", async () => ((await listOurContainers(OWNER)).some((c) => c.Id === hung?.Id) ? undefined : true), 10_000).catch(() => false);
      figures.check("3. hung tool (timeout 2 s)", removed ? "container removed" : "container LEFT", "removed", removed === true);
    });
  });

  it("3b. a server that never answers initialize: the call ends at the server's timeout with its container removed", async (t) => {
    if (!(await requireDocker(t)) || !daemon) return;
    await figures.scenario("3b. hung initialize", async () => {
      const result = await watchContainers(call(client, "mute__echo", { text: "x" }));
      figures.check("3b. hung initialize (timeout 2 s)", `error after ${result.ms} ms: "${result.text.slice(0, 80)}…"`, "clear error within 2 s + 3 s", !result.ok && result.ms < 5000, result.text);
      const left = await waitFor("mute containers to go", async () => ((await listOurContainers(OWNER)).some((c) => c.Labels["dev.mcp-router.server"] === "mute") ? undefined : true), 10_000).catch(() => false);
      figures.check("3b. hung initialize (timeout 2 s)", left ? "container removed" : "container LEFT", "removed", left === true);
    });
  });

  it("7. secrets: planted values never in MCP errors or container argv (they are in Env, by design)", async (t) => {
    if (!(await requireDocker(t)) || !daemon) return;
    await figures.scenario("7. secrets", async () => {
      const ok = await watchContainers(call(client, "vault__echo", { text: "fine" }));
      assert.ok(ok.ok, ok.text);
      const crash = await watchContainers(call(client, "vault__crash", { code: 5 }));
      assert.ok(!crash.ok && /exited with code 5/.test(crash.text), crash.text);
      await watchContainers(call(client, "vault__fail"));
      await watchContainers(call(client, "vault__hang"));
      const planted = [SECRET_FILE, SECRET_ENV];
      const envHits = envSeen.flatMap((e, i) => secretHits(e, planted, `env ${i}`)).length;
      figures.check("7. secrets reach the container", `${envHits} planted values in container Env`, "≥ 2 (the plant is live)", envHits >= 2);
      const argvHits = argvSeen.flatMap((a, i) => secretHits(a, [...planted, WEBHOOK_SECRET, daemon!.key], `argv ${i}`));
      figures.check("7. secrets in container argv", `${argvHits.length} hits in Cmd/Entrypoint/Args of ${argvSeen.length} containers`, "0", argvHits.length === 0, argvHits.join("\n"));
      // Upstream errors are grepped in the last test too, with everything else.
      const hits = errorMessages.flatMap((m, i) => secretHits(m, planted, `error ${i}`));
      figures.check("7. secrets in MCP errors (crash stderr, upstream error)", `${hits.length} hits in ${errorMessages.length} error messages`, "0", hits.length === 0, hits.join("\n"));
    });
  });

  it("7. HTTP: no token, wrong token, foreign Origin and a rebinding Host are rejected", async (t) => {
    if (!(await requireDocker(t)) || !daemon) return;
    await figures.scenario("7. HTTP auth", async () => {
      const mcp = new URL("mcp", daemon!.url);
      const init = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } } });
      const accept = { accept: "application/json, text/event-stream" };
      const host = { host: `${mcp.hostname}:${mcp.port}` };
      const cases: [string, Record<string, string>, number][] = [
        ["no token", { ...accept, ...host }, 401],
        ["wrong token", { ...accept, ...host, authorization: "Bearer rel-wrong-key-0000000000" }, 401],
        ["foreign Origin", { ...accept, ...host, authorization: `Bearer ${daemon!.key}`, origin: "https://evil.example" }, 403],
        ["rebinding Host", { ...accept, host: `evil.example:${mcp.port}`, authorization: `Bearer ${daemon!.key}` }, 403],
        ["right token (control)", { ...accept, ...host, authorization: `Bearer ${daemon!.key}` }, 200],
      ];
      const got = [];
      for (const [name, headers, want] of cases) got.push([name, await rawHttp(mcp, headers, init), want] as const);
      const statusNoToken = await rawHttp(new URL("status", daemon!.url), host);
      got.push(["GET /status without token", statusNoToken, 401] as const);
      const wrong = got.filter(([, status, want]) => status !== want);
      figures.check("7. HTTP rejections", got.map(([n, s]) => `${n} ${s}`).join(", "), "401, 401, 403, 403, 200, 401", wrong.length === 0);
    });
  });

  it("7. webhooks: missing, forged and tampered signatures are rejected; a valid one is accepted", async (t) => {
    if (!(await requireDocker(t)) || !daemon) return;
    await figures.scenario("7. webhooks", async () => {
      const hook = new URL("hooks/github", daemon!.url);
      const body = JSON.stringify({ ref: "refs/heads/main", after: "0123456789abcdef0123456789abcdef01234567" });
      const sign = (b: string, secret = WEBHOOK_SECRET) => `sha256=${createHmac("sha256", secret).update(b).digest("hex")}`;
      const base = { host: `${hook.hostname}:${hook.port}`, "x-github-event": "push" };
      const before = (await daemon!.status()).reconciles;
      const results = [
        ["missing", await rawHttp(hook, base, body), 401],
        ["forged", await rawHttp(hook, { ...base, "x-hub-signature-256": sign(body, "not-the-secret") }, body), 401],
        ["tampered", await rawHttp(hook, { ...base, "x-hub-signature-256": sign(body) }, body.replace("0123", "dead")), 401],
      ] as const;
      const middle = (await daemon!.status()).reconciles;
      const valid = await rawHttp(hook, { ...base, "x-hub-signature-256": sign(body) }, body);
      const after = await waitFor("the webhook's reconcile", async () => ((await daemon!.status()).reconciles > middle ? (await daemon!.status()).reconciles : undefined), 10_000).catch(() => middle);
      const rejected = results.every(([, s, want]) => s === want);
      figures.check("7. webhook signatures", `${results.map(([n, s]) => `${n} ${s}`).join(", ")}, valid ${valid}`, "401, 401, 401, valid 202", rejected && valid === 202);
      figures.check("7. webhook signatures", `reconciles: +${middle - before} after rejected, +${after - middle} after valid`, "+0, then ≥ +1", middle === before && after > middle);
    });
  });

  it("1. 500 malformed registry files: no crash, each a located error, good servers and last good versions keep serving", async (t) => {
    if (!(await requireDocker(t)) || !daemon) return;
    await figures.scenario("1. malformed files", async () => {
      const d = daemon!;
      const corpus = malformedCorpus(500, { goodPrefix: "echo", goodName: "dev.mcp-router.reliability/twin" });
      const before = await d.status();
      const t0 = performance.now();
      for (const f of corpus) await writeFile(path.join(d.serversDir, f.name), f.content);
      // And a server whose file turns bad: its last good version must keep serving.
      await writeFile(path.join(d.serversDir, "keep.yaml"), probeYaml("keep", image).replace("version: 1.0.0", "version: latest"));
      const expected = new Set([...corpus.map((f) => `servers/${f.name}`), "servers/keep.yaml", "servers/twin.yaml"]);
      const status = await waitFor(
        "every bad file in /status",
        async () => {
          const s = await d.status();
          const failed = s.servers.filter((c) => c.reason === "ValidationFailed").map((c) => c.file);
          return s.lastAppliedRevision !== before.lastAppliedRevision && expected.size === failed.filter((f) => expected.has(f)).length ? s : undefined;
        },
        90_000,
        500,
      ).catch(() => d.status());
      const reloadMs = since(t0);
      const alive = d.child.exitCode === null && (await fetch(new URL("healthz", d.url))).status === 200;
      figures.check("1. malformed files", alive ? `daemon alive, /healthz 200 (applied in ${reloadMs} ms)` : "daemon DIED", "0 crashes", alive);

      const located = /^\S+:\d+:\d+ {2}/;
      const byFile = new Map(status.servers.map((c) => [c.file, c]));
      const inStatus = corpus.filter((f) => {
        const c = byFile.get(`servers/${f.name}`);
        return c?.reason === "ValidationFailed" && c.message.split("\n").some((l) => located.test(l) && l.includes(f.name));
      });
      const missing = corpus.filter((f) => !inStatus.includes(f)).map((f) => `${f.name} (${f.kind}): ${JSON.stringify(byFile.get(`servers/${f.name}`)?.message ?? "absent").slice(0, 160)}`);
      figures.check("1. malformed files", `${inStatus.length}/${corpus.length} with file:line:col in /status`, `${corpus.length}/${corpus.length}`, inStatus.length === corpus.length, missing.slice(0, 20).join("\n"));

      const load = await loadRegistry(d.registryDir);
      const results = new Map(load.files.map((f) => [f.file, f]));
      const withRule = corpus.filter((f) => {
        const diagnostics = results.get(`servers/${f.name}`)?.diagnostics ?? [];
        return diagnostics.length > 0 && diagnostics.every((x) => x.file.endsWith(f.name) && x.line >= 1 && x.column >= 1 && /^[a-z-]+\.[a-z-]+/.test(x.rule));
      });
      const kinds = new Set(corpus.map((f) => f.kind.replace(/^fixture:.*/, "fixture"))).size;
      figures.check("1. malformed files", `${withRule.length}/${corpus.length} with file + line + rule from the loader (${kinds} kinds)`, `${corpus.length}/${corpus.length}`, withRule.length === corpus.length);

      const echo = await call(client, "echo__echo", { text: "still here" });
      figures.check("1. malformed files", `good server call: ${echo.ok ? "ok" : echo.text}`, "succeeds", echo.ok && echo.text === "still here");
      const keep = byFile.get("servers/keep.yaml");
      const keepCall = await call(client, "keep__echo", { text: "last good" });
      figures.check("1. malformed files", `file turned bad: ${keep?.reason}, ${keep?.stale ? "stale" : "not stale"}, call ${keepCall.ok ? "ok" : keepCall.text}`, "ValidationFailed, stale, last good serves", keep?.reason === "ValidationFailed" && keep.stale && keepCall.ok);
      const twin = byFile.get("servers/twin.yaml");
      const twinCall = await call(client, "twin__echo", { text: "twin" });
      figures.check("1. malformed files", `name taken by a bad file: ${twin?.reason}, call ${twinCall.ok ? "ok" : twinCall.text}`, "stale, last good serves", twin?.stale === true && twinCall.ok);
      const echoCondition = byFile.get("servers/echo.yaml");
      figures.check("1. malformed files", `untouched good server: ${echoCondition?.reason}`, "Applied", echoCondition?.reason === "Applied" && !echoCondition.stale);
    });
  });

  it("7. secrets: the daemon's log, the audit log and every MCP error of this file hold no planted value", async (t) => {
    if (!(await requireDocker(t)) || !daemon) return;
    await figures.scenario("7. secrets in output", async () => {
      const planted = [SECRET_FILE, SECRET_ENV, WEBHOOK_SECRET, daemon!.key];
      const log = daemon!.log();
      const logHits = secretHits(log, planted, "daemon stderr");
      figures.check("7. secrets in the daemon's log", `${logHits.length} hits in ${log.split("\n").length} log lines (debug level)`, "0", logHits.length === 0, logHits.slice(0, 10).join("\n"));
      const errorHits = errorMessages.flatMap((m, i) => secretHits(m, planted, `error ${i}`));
      figures.check("7. secrets in MCP errors (whole file)", `${errorHits.length} hits in ${errorMessages.length} error messages`, "0", errorHits.length === 0, errorHits.slice(0, 10).join("\n"));
      if (auditFile) {
        const audit = await readFile(auditFile, "utf8").catch(() => "");
        const auditHits = secretHits(audit, planted, "audit");
        figures.check("7. secrets in audit lines", `${auditHits.length} hits in ${audit.split("\n").filter(Boolean).length} audit lines`, "0 (and lines written)", auditHits.length === 0 && audit.length > 0);
        await rm(path.dirname(auditFile), { recursive: true, force: true });
      } else {
        figures.rows.push({ scenario: "7. secrets in audit lines", figure: "n/a: this checkout's serve has no --audit-log yet", expectation: "0 hits once it exists", pass: true });
      }
    });
  });

  it("7. secrets: the propose path's PR body and file hold no planted value from the evidence", async () => {
    await figures.scenario("7. secrets in PR body", async () => {
      const fake = await new FakeApis().start();
      const dir = await mkdtemp(path.join(tmpdir(), "rel-propose-"));
      try {
        fake.addRepo("acme/leaky-mcp", {
          "README.md": `# leaky-mcp\n\nRun it:\n\n\`\`\`sh\nLEAKY_API_KEY=${PROPOSE_SECRET} npx -y leaky-mcp@1.2.3\n\`\`\`\n`,
          ".env.example": `LEAKY_API_KEY=${PROPOSE_SECRET}\n`,
          "package.json": JSON.stringify({ name: "leaky-mcp", version: "1.2.3", bin: { "leaky-mcp": "index.js" }, description: `MCP server (key ${PROPOSE_SECRET})` }),
          "index.js": "const key = process.env.LEAKY_API_KEY;\n",
        });
        fake.addRepo("acme/registry", { "registry/servers/.gitkeep": "" });
        // Claude copies the secret from the evidence into the file: the proposer must strip it.
        const entry = {
          name: "io.github.acme/leaky-mcp",
          description: "Leaky test server",
          version: "1.2.3",
          repository: { url: "https://github.com/acme/leaky-mcp", source: "github" },
          packages: [
            {
              registryType: "npm", identifier: "leaky-mcp", version: "1.2.3", runtimeHint: "npx", transport: { type: "stdio" },
              environmentVariables: [{ name: "LEAKY_API_KEY", description: `API key, e.g. ${PROPOSE_SECRET}`, isRequired: true, isSecret: true, value: PROPOSE_SECRET }],
            },
          ],
          router: { prefix: "leaky" },
        };
        fake.queueAnthropic(
          { content: [{ type: "tool_use", id: "toolu_rel1", name: TOOL_NAME, input: entry }] },
          { content: [{ type: "tool_use", id: "toolu_rel2", name: TOOL_NAME, input: entry }] },
          { content: [{ type: "tool_use", id: "toolu_rel3", name: TOOL_NAME, input: entry }] },
          { content: [{ type: "tool_use", id: "toolu_rel4", name: TOOL_NAME, input: entry }] },
        );
        const out: string[] = [];
        const program = new Command("mcp-router").exitOverride();
        registerProposeCommands(program, {
          stdout: (x) => out.push(x),
          stderr: (x) => out.push(x),
          setExitCode: () => undefined,
          githubThrottle: false,
          env: {
            GITHUB_TOKEN: "ghs_relfaketoken",
            GITHUB_API_URL: fake.githubUrl,
            GITHUB_REPOSITORY: "acme/registry",
            GITHUB_OUTPUT: path.join(dir, "output"),
            ANTHROPIC_API_KEY: "sk-ant-relfake",
            ANTHROPIC_BASE_URL: fake.anthropicUrl,
          },
        });
        await program.parseAsync(["node", "mcp-router", "propose", "https://github.com/acme/leaky-mcp", "--open-pr"]).catch((e: Error) => out.push(`error: ${e.message}`));
        process.exitCode = 0;
        const pr = fake.pulls("acme/registry")[0];
        const file = fake.fileOn("acme/registry", "add-server/leaky", "registry/servers/leaky.yaml") ?? "";
        assert.ok(pr, `a PR was opened: ${out.join("").slice(-800)}`);
        const evidenceSeen = fake.anthropicRequests.some((r) => JSON.stringify(r).includes(PROPOSE_SECRET));
        const bodyHits = [
          ...secretHits(pr.body, [PROPOSE_SECRET], "PR body"),
          ...secretHits(pr.title, [PROPOSE_SECRET], "PR title"),
          ...secretHits(out.join(""), [PROPOSE_SECRET, "ghs_relfaketoken", "sk-ant-relfake"], "propose output"),
          ...fake.comments("acme/registry").flatMap((c) => secretHits(c.body, [PROPOSE_SECRET], "comment")),
        ];
        const fileHits = secretHits(file, [PROPOSE_SECRET], "registry file");
        // Both rows are recorded before either is asserted.
        const rows = [
          ["7. secrets in PR body", `${bodyHits.length} hits in PR title, body, comments and output (secret in the evidence sent to Claude: ${evidenceSeen ? "yes" : "no"})`, bodyHits],
          ["7. secrets in the PR's registry file", `${fileHits.length} hits in the committed file (Claude copied it into a description)`, fileHits],
        ] as const;
        for (const [scenario, figure, hits] of rows) figures.rows.push({ scenario, figure, expectation: "0", pass: hits.length === 0 });
        assert.deepEqual([...bodyHits, ...fileHits], [], "no planted secret in the PR");
      } finally {
        await fake.stop();
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
});
