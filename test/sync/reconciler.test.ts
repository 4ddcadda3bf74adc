/**
 * Sync against real git repositories in temp dirs (a bare remote, a working clone that commits
 * to it, and the daemon's own clone), and a real watched directory.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdir, mkdtemp, rename, rm, unlink, utimes, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { promisify } from "node:util";
import { pino } from "pino";
import { loadRegistry } from "../../src/registry/loader.js";
import type { RegistryServer } from "../../src/registry/types.js";
import { DirectorySource } from "../../src/sync/directory-source.js";
import { GitSource } from "../../src/sync/git-source.js";
import { redactUrl } from "../../src/secrets/secret-scrubber.js";
import { createGithubWebhookHandler, verifyGithubSignature } from "../../src/transports/github-webhook.js";
import { Reconciler } from "../../src/sync/reconciler.js";

const exec = promisify(execFile);
const logger = pino({ level: "silent" });
const temps: string[] = [];
after(() => Promise.all(temps.map((t) => rm(t, { recursive: true, force: true }))));

async function temp(name: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), `mcp-router-sync-${name}-`));
  temps.push(dir);
  return dir;
}

function serverYaml(prefix: string, version = "1.0.0", extra = ""): string {
  return `name: io.github.acme/${prefix}
description: The ${prefix} server
version: ${version}
packages:
  - registryType: npm
    identifier: "@acme/${prefix}"
    version: ${version}
    transport:
      type: stdio
${extra}`;
}

const git = (cwd: string, ...args: string[]) => exec("git", args, { cwd }).then((r) => r.stdout.trim());

/** A bare remote plus a working clone that commits and pushes to it. */
async function remoteRepo() {
  const base = await temp("git");
  const bare = path.join(base, "remote.git");
  const work = path.join(base, "work");
  await exec("git", ["init", "--bare", "--initial-branch=main", bare]);
  await exec("git", ["clone", bare, work]);
  await git(work, "config", "user.email", "test@example.com");
  await git(work, "config", "user.name", "test");
  await mkdir(path.join(work, "servers"), { recursive: true });
  const commit = async (files: Record<string, string | null>, message: string, ...pushArgs: string[]) => {
    for (const [name, body] of Object.entries(files)) {
      const file = path.join(work, "servers", name);
      if (body === null) await unlink(file);
      else await writeFile(file, body);
    }
    await git(work, "add", "-A");
    await git(work, "commit", "-qm", message);
    await git(work, "push", "-q", ...pushArgs, "origin", "HEAD:main");
    return git(work, "rev-parse", "HEAD");
  };
  return { base, bare, work, commit };
}

function harness(
  source: GitSource | DirectorySource,
  opts: { failPrepare?: Set<string>; slowPrepare?: Map<string, Promise<void>>; prepareBudgetMs?: number; prepareRetryMs?: number; settleBudgetMs?: number } = {},
) {
  const tables: { revision: string; servers: RegistryServer[] }[] = [];
  const prepared: string[] = [];
  const attempted: string[] = [];
  const retired: string[] = [];
  const reconciler = new Reconciler({
    source,
    load: (dir) => loadRegistry(dir),
    prepare: async (server) => {
      attempted.push(`${server.prefix}@${server.entry.version}`);
      if (opts.failPrepare?.has(server.prefix)) throw new Error(`image build for ${server.prefix} failed`);
      await opts.slowPrepare?.get(server.prefix);
      prepared.push(`${server.prefix}@${server.entry.version}`);
    },
    apply: (servers, revision) => {
      tables.push({ revision, servers: [...servers] });
    },
    retire: (server) => {
      retired.push(`${server.prefix}@${server.entry.version}`);
    },
    logger,
    ...(opts.prepareBudgetMs !== undefined ? { prepareBudgetMs: opts.prepareBudgetMs } : {}),
    ...(opts.prepareRetryMs !== undefined ? { prepareRetryMs: opts.prepareRetryMs } : {}),
    ...(opts.settleBudgetMs !== undefined ? { settleBudgetMs: opts.settleBudgetMs } : {}),
  });
  const table = () => Object.fromEntries((tables.at(-1)?.servers ?? []).map((s) => [s.prefix, s.entry.version]));
  return { reconciler, tables, prepared, attempted, retired, table };
}

test("good -> bad -> good commits: the last good version keeps serving, marked stale", async () => {
  const repo = await remoteRepo();
  const rev1 = await repo.commit({ "alpha.yaml": serverYaml("alpha"), "beta.yaml": serverYaml("beta") }, "good");
  const h = harness(new GitSource({ url: repo.bare, branch: "main", dir: path.join(repo.base, "daemon") }));
  await h.reconciler.request("test");
  assert.deepEqual(h.table(), { alpha: "1.0.0", beta: "1.0.0" });
  let status = h.reconciler.status();
  assert.equal(status.ready, true);
  assert.equal(status.lastAppliedRevision, rev1);
  assert.equal(status.lastAttemptedRevision, rev1);

  // A broken alpha and a new gamma in the same commit: gamma goes live, alpha stays at 1.0.0.
  const rev2 = await repo.commit({ "alpha.yaml": serverYaml("alpha", "latest"), "gamma.yaml": serverYaml("gamma") }, "bad alpha, new gamma");
  await h.reconciler.request("test");
  assert.deepEqual(h.table(), { alpha: "1.0.0", beta: "1.0.0", gamma: "1.0.0" });
  status = h.reconciler.status();
  assert.equal(status.lastAttemptedRevision, rev2);
  assert.equal(status.lastAppliedRevision, rev2);
  const alpha = status.servers.find((s) => s.prefix === "alpha");
  assert.equal(alpha?.reason, "ValidationFailed");
  assert.equal(alpha?.stale, true);
  assert.equal(alpha?.serving, true);
  assert.equal(alpha?.appliedRevision, rev1);
  assert.match(alpha?.message ?? "", /servers\/alpha\.yaml:\d+:\d+ {2}version: must be an exact version/);
  assert.equal(status.lastError?.reason, "ValidationFailed");
  assert.match(status.lastError?.message ?? "", /servers\/alpha\.yaml/);
  assert.equal(status.servers.find((s) => s.prefix === "gamma")?.reason, "Applied");

  const rev3 = await repo.commit({ "alpha.yaml": serverYaml("alpha", "1.1.0") }, "fixed");
  await h.reconciler.request("test");
  assert.deepEqual(h.table(), { alpha: "1.1.0", beta: "1.0.0", gamma: "1.0.0" });
  status = h.reconciler.status();
  assert.equal(status.lastAppliedRevision, rev3);
  const fixed = status.servers.find((s) => s.prefix === "alpha");
  assert.equal(fixed?.reason, "Applied");
  assert.equal(fixed?.stale, false);
  assert.equal(fixed?.appliedRevision, rev3);
  assert.deepEqual(h.retired, ["alpha@1.0.0"]);
  // Only what changed was prepared: never beta twice.
  assert.deepEqual(h.prepared.sort(), ["alpha@1.0.0", "alpha@1.1.0", "beta@1.0.0", "gamma@1.0.0"]);
});

test("a broken new file is not served and says why", async () => {
  const repo = await remoteRepo();
  await repo.commit({ "alpha.yaml": serverYaml("alpha"), "delta.yaml": "name: [oops" }, "one good one bad");
  const h = harness(new GitSource({ url: repo.bare, branch: "main", dir: path.join(repo.base, "daemon") }));
  await h.reconciler.request("test");
  assert.deepEqual(h.table(), { alpha: "1.0.0" });
  const delta = h.reconciler.status().servers.find((s) => s.prefix === "delta");
  assert.deepEqual([delta?.serving, delta?.stale, delta?.reason], [false, false, "ValidationFailed"]);
});

test("a deleted file removes its server and retires it", async () => {
  const repo = await remoteRepo();
  await repo.commit({ "alpha.yaml": serverYaml("alpha"), "beta.yaml": serverYaml("beta") }, "two");
  const h = harness(new GitSource({ url: repo.bare, branch: "main", dir: path.join(repo.base, "daemon") }));
  await h.reconciler.request("test");
  await repo.commit({ "beta.yaml": null }, "remove beta");
  await h.reconciler.request("test");
  assert.deepEqual(h.table(), { alpha: "1.0.0" });
  assert.deepEqual(h.retired, ["beta@1.0.0"]);
  assert.equal(h.reconciler.status().servers.some((s) => s.prefix === "beta"), false);
});

test("a force-push is followed", async () => {
  const repo = await remoteRepo();
  const rev1 = await repo.commit({ "alpha.yaml": serverYaml("alpha") }, "one");
  await repo.commit({ "alpha.yaml": serverYaml("alpha", "2.0.0") }, "two");
  const h = harness(new GitSource({ url: repo.bare, branch: "main", dir: path.join(repo.base, "daemon") }));
  await h.reconciler.request("test");
  assert.deepEqual(h.table(), { alpha: "2.0.0" });
  // Rewrite history: drop "two", commit something else instead, force-push.
  await git(repo.work, "reset", "-q", "--hard", rev1);
  const rewritten = await repo.commit({ "alpha.yaml": serverYaml("alpha", "1.5.0") }, "rewritten", "--force");
  await h.reconciler.request("test");
  assert.deepEqual(h.table(), { alpha: "1.5.0" });
  assert.equal(h.reconciler.status().lastAppliedRevision, rewritten);
});

test("an unreachable remote leaves the table as it was, and sync resumes when it is back", async () => {
  const repo = await remoteRepo();
  const rev1 = await repo.commit({ "alpha.yaml": serverYaml("alpha") }, "one");
  const h = harness(new GitSource({ url: repo.bare, branch: "main", dir: path.join(repo.base, "daemon") }));
  await h.reconciler.request("test");
  const applied = h.tables.length;
  await rename(repo.bare, `${repo.bare}.away`);
  await h.reconciler.request("test");
  let status = h.reconciler.status();
  assert.equal(h.tables.length, applied, "no table was applied while the remote was gone");
  assert.equal(status.lastError?.reason, "FetchFailed");
  assert.match(status.lastError?.message ?? "", /cannot fetch/);
  assert.equal(status.lastAppliedRevision, rev1);
  assert.equal(status.ready, true);
  await rename(`${repo.bare}.away`, repo.bare);
  const rev2 = await repo.commit({ "beta.yaml": serverYaml("beta") }, "two");
  await h.reconciler.request("test");
  status = h.reconciler.status();
  assert.equal(status.lastAppliedRevision, rev2);
  assert.deepEqual(h.table(), { alpha: "1.0.0", beta: "1.0.0" });
});

test("a failed prepare keeps the old version and is retried on the next reconcile once its backoff is over", async () => {
  const repo = await remoteRepo();
  await repo.commit({ "alpha.yaml": serverYaml("alpha") }, "one");
  const failing = new Set<string>();
  const h = harness(new GitSource({ url: repo.bare, branch: "main", dir: path.join(repo.base, "daemon") }), { failPrepare: failing, prepareRetryMs: 0 });
  await h.reconciler.request("test");
  failing.add("alpha");
  await repo.commit({ "alpha.yaml": serverYaml("alpha", "2.0.0") }, "two");
  await h.reconciler.request("test");
  assert.deepEqual(h.table(), { alpha: "1.0.0" });
  const alpha = h.reconciler.status().servers.find((s) => s.prefix === "alpha");
  assert.deepEqual([alpha?.reason, alpha?.stale], ["PrepareFailed", true]);
  assert.match(alpha?.message ?? "", /image build for alpha failed/);
  failing.clear();
  await h.reconciler.request("poll");
  assert.deepEqual(h.table(), { alpha: "2.0.0" });
});

test("a slow prepare does not hold the table back: the others apply, it follows once ready", async () => {
  const repo = await remoteRepo();
  await repo.commit({ "alpha.yaml": serverYaml("alpha"), "build.yaml": serverYaml("build") }, "one");
  let finishBuild = (): void => undefined;
  const slow = new Map([["build", new Promise<void>((resolve) => (finishBuild = resolve))]]);
  const h = harness(new GitSource({ url: repo.bare, branch: "main", dir: path.join(repo.base, "daemon") }), { slowPrepare: slow, prepareBudgetMs: 200 });
  await h.reconciler.request("start");
  assert.deepEqual(h.table(), { alpha: "1.0.0" }, "applied without the server still preparing");
  assert.equal(h.reconciler.status().ready, true);
  assert.equal(h.reconciler.status().settled, false, "not settled while a first prepare runs");
  const build = h.reconciler.status().servers.find((s) => s.prefix === "build");
  assert.deepEqual([build?.reason, build?.serving], ["Preparing", false]);
  assert.match(build?.message ?? "", /still preparing after 0 s/);
  const applied = new Promise<void>((resolve) => {
    const off = h.reconciler.onStatus((status) => {
      if (status.servers.find((s) => s.prefix === "build")?.reason === "Applied") {
        off();
        resolve();
      }
    });
  });
  finishBuild();
  await applied;
  assert.deepEqual(h.table(), { alpha: "1.0.0", build: "1.0.0" }, "its prepare finishing triggers the reconcile that applies it");
  assert.equal(h.reconciler.status().settled, true, "settled once every first prepare finished");
  await h.reconciler.stop();
});

test("bursts of requests coalesce into one follow-up reconcile", async () => {
  const repo = await remoteRepo();
  await repo.commit({ "alpha.yaml": serverYaml("alpha") }, "one");
  const h = harness(new GitSource({ url: repo.bare, branch: "main", dir: path.join(repo.base, "daemon") }));
  await Promise.all(Array.from({ length: 20 }, () => h.reconciler.request("burst")));
  assert.equal(h.reconciler.status().reconciles, 2, "the first run plus one coalesced follow-up");
});

test("credentials in git URLs never reach messages", () => {
  assert.equal(redactUrl("https://x-access-token:ghs_secret@github.com/acme/reg.git"), "https://***@github.com/acme/reg.git");
  assert.equal(new GitSource({ url: "https://u:p@host/r.git", branch: "main", dir: "/tmp/x" }).description, "git https://***@host/r.git (main)");
});

test("local edits are picked up by the watcher", async () => {
  const dir = await temp("dir");
  await mkdir(path.join(dir, "servers"));
  await writeFile(path.join(dir, "servers", "alpha.yaml"), serverYaml("alpha"));
  const h = harness(new DirectorySource({ dir, debounceMs: 30 }));
  const applied = (pred: () => boolean) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out; table ${JSON.stringify(h.table())}`)), 10_000);
      const off = h.reconciler.onStatus(() => {
        if (pred()) {
          clearTimeout(timer);
          off();
          resolve();
        }
      });
    });
  await h.reconciler.start();
  try {
    assert.deepEqual(h.table(), { alpha: "1.0.0" });
    const revision = h.reconciler.status().lastAppliedRevision;
    assert.match(revision ?? "", /^dir-[0-9a-f]{12}$/);
    let wait = applied(() => h.table().beta === "1.0.0");
    await writeFile(path.join(dir, "servers", "beta.yaml"), serverYaml("beta"));
    await wait;
    wait = applied(() => h.table().alpha === "3.0.0");
    await writeFile(path.join(dir, "servers", "alpha.yaml"), serverYaml("alpha", "3.0.0"));
    await utimes(path.join(dir, "servers", "alpha.yaml"), new Date(), new Date(Date.now() + 1000));
    await wait;
    wait = applied(() => !("beta" in h.table()));
    await unlink(path.join(dir, "servers", "beta.yaml"));
    await wait;
    assert.deepEqual(h.table(), { alpha: "3.0.0" });
  } finally {
    await h.reconciler.stop();
  }
});

test("webhook: a valid signature triggers a fetch; invalid and missing ones are refused", async () => {
  const secret = "s3cret-webhook";
  const pushes: (string | undefined)[] = [];
  const handler = createGithubWebhookHandler({ secret, branch: "main", onPush: (rev) => pushes.push(rev) });
  const server: Server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/github`;
  const post = (body: string, headers: Record<string, string>) =>
    fetch(url, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
  const sign = (body: string, key = secret) => `sha256=${createHmac("sha256", key).update(body).digest("hex")}`;
  try {
    const push = JSON.stringify({ ref: "refs/heads/main", after: "abc123" });
    const ok = await post(push, { "x-github-event": "push", "x-hub-signature-256": sign(push) });
    assert.equal(ok.status, 202);
    assert.deepEqual(pushes, ["abc123"]);

    const forged = await post(push, { "x-github-event": "push", "x-hub-signature-256": sign(push, "wrong") });
    assert.equal(forged.status, 401);
    const missing = await post(push, { "x-github-event": "push" });
    assert.equal(missing.status, 401);
    const tampered = await post(push.replace("abc123", "evil"), { "x-github-event": "push", "x-hub-signature-256": sign(push) });
    assert.equal(tampered.status, 401);
    assert.deepEqual(pushes, ["abc123"], "refused requests trigger nothing");

    const other = JSON.stringify({ ref: "refs/heads/feature", after: "def" });
    const ignored = await post(other, { "x-github-event": "push", "x-hub-signature-256": sign(other) });
    assert.equal(ignored.status, 202);
    assert.match(JSON.stringify(await ignored.json()), /ignored/);
    assert.deepEqual(pushes, ["abc123"]);
  } finally {
    server.close();
  }
  assert.equal(verifyGithubSignature(secret, Buffer.from("x"), "sha1=abc"), false);
});

test("a 200-server registry where one file changed re-prepares only that server", async () => {
  const repo = await remoteRepo();
  const files: Record<string, string> = {};
  for (let i = 0; i < 200; i++) files[`s${i}.yaml`] = serverYaml(`s${i}`);
  await repo.commit(files, "200 servers");
  const h = harness(new GitSource({ url: repo.bare, branch: "main", dir: path.join(repo.base, "daemon") }));
  await h.reconciler.request("test");
  assert.equal(h.prepared.length, 200);
  await repo.commit({ "s42.yaml": serverYaml("s42", "1.0.1") }, "bump s42");
  await h.reconciler.request("test");
  assert.deepEqual(h.prepared.slice(200), ["s42@1.0.1"]);
  assert.equal(Object.keys(h.table()).length, 200);
});

test("settled: after the settle budget even while a prepare still runs, and it stays settled", async () => {
  const repo = await remoteRepo();
  await repo.commit({ "alpha.yaml": serverYaml("alpha"), "build.yaml": serverYaml("build") }, "one");
  let finishBuild = (): void => undefined;
  const slow = new Map([["build", new Promise<void>((resolve) => (finishBuild = resolve))]]);
  const h = harness(new GitSource({ url: repo.bare, branch: "main", dir: path.join(repo.base, "daemon") }), { slowPrepare: slow, prepareBudgetMs: 50, settleBudgetMs: 300 });
  const settled = new Promise<void>((resolve) => {
    const off = h.reconciler.onStatus((status) => {
      if (status.settled) {
        off();
        resolve();
      }
    });
  });
  await h.reconciler.start();
  assert.equal(h.reconciler.status().settled, false, "the budget runs from the first applied table");
  const keepAlive = setInterval(() => undefined, 1000);
  await settled;
  clearInterval(keepAlive);
  assert.equal(h.reconciler.status().servers.find((s) => s.prefix === "build")?.reason, "Preparing", "settled by the budget, not by the prepare");
  finishBuild();
  await h.reconciler.stop();
});

test("a failed prepare is tried again with backoff, without a new commit, and applies once its cause is gone", async () => {
  const repo = await remoteRepo();
  await repo.commit({ "alpha.yaml": serverYaml("alpha"), "engine.yaml": serverYaml("engine") }, "one");
  const failing = new Set(["engine"]);
  const h = harness(new GitSource({ url: repo.bare, branch: "main", dir: path.join(repo.base, "daemon") }), { failPrepare: failing, prepareRetryMs: 20 });
  const attempts: string[] = [];
  const live = new Promise<void>((resolve) => {
    const off = h.reconciler.onStatus((status) => {
      const engine = status.servers.find((s) => s.prefix === "engine");
      attempts.push(engine?.reason ?? "?");
      // The cause goes away after the second failed attempt (say, the Docker engine came up).
      if (attempts.filter((a) => a === "PrepareFailed").length === 2) failing.delete("engine");
      if (engine?.reason === "Applied") {
        off();
        resolve();
      }
    });
  });
  await h.reconciler.start();
  assert.equal(h.reconciler.status().settled, true, "a failed first prepare counts as finished");
  const keepAlive = setInterval(() => undefined, 1000); // the retry timer is unref'd, as a daemon's should be
  await live;
  clearInterval(keepAlive);
  assert.deepEqual(h.table(), { alpha: "1.0.0", engine: "1.0.0" });
  assert.deepEqual(attempts.slice(0, 3), ["PrepareFailed", "PrepareFailed", "Applied"]);
  await h.reconciler.stop();
});

test("during its backoff a failed version is not prepared again by other reconciles; a changed file is", async () => {
  const repo = await remoteRepo();
  await repo.commit({ "alpha.yaml": serverYaml("alpha") }, "one");
  const failing = new Set(["alpha"]);
  const h = harness(new GitSource({ url: repo.bare, branch: "main", dir: path.join(repo.base, "daemon") }), { failPrepare: failing, prepareRetryMs: 60_000 });
  await h.reconciler.request("start");
  await h.reconciler.request("poll");
  await h.reconciler.request("poll");
  assert.deepEqual(h.attempted, ["alpha@1.0.0"], "one attempt; the polls fall inside its backoff");
  assert.match(h.reconciler.status().servers[0]?.message ?? "", /image build for alpha failed/, "the last reason is kept while backing off");
  failing.clear();
  await repo.commit({ "alpha.yaml": serverYaml("alpha", "2.0.0") }, "fixed");
  await h.reconciler.request("poll");
  assert.deepEqual(h.table(), { alpha: "2.0.0" }, "a new version is prepared at once");
  await h.reconciler.stop();
});
