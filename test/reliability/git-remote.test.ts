/**
 * Reliability suite, part 2: a daemon following a git remote (`serve --git`, polling every
 * second) while the remote disappears and comes back, and while its branch is force-pushed.
 * The last good table keeps serving throughout; /status reports the failure; the new revision
 * is applied once it can be fetched. Prints its section of the table at the end.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { dockerAvailable, listOurContainers, requireDocker } from "../support/docker.js";
import { ensureReliabilityProbe, probeYaml, secretHits, startCliDaemon, type CliDaemon } from "./cli-daemon.js";
import { Figures, since, waitFor } from "./figures.js";

const OWNER = "rel-git";
const figures = new Figures("git remote gone and back, force-push");
const exec = promisify(execFile);
const git = (cwd: string, ...args: string[]) => exec("git", args, { cwd }).then((r) => r.stdout.trim());
const WEBHOOK_SECRET = "rel-planted-githook-52c9e1a7d3f0";

describe("reliability: git remote", { timeout: 180_000 }, () => {
  let daemon: CliDaemon | undefined;
  let client: Client;
  let image: string;
  let base: string;
  let bare: string;
  let work: string;

  async function commit(files: Record<string, string>, message: string, force = false): Promise<string> {
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(work, "registry/servers", name), text);
    await git(work, "add", "-A");
    await git(work, "commit", "-qm", message);
    await git(work, "push", "-q", ...(force ? ["--force"] : []), "origin", "HEAD:main");
    return git(work, "rev-parse", "HEAD");
  }

  async function echo(text: string): Promise<{ ok: boolean; text: string }> {
    try {
      const result = (await client.callTool({ name: "app__echo", arguments: { text } })) as CallToolResult;
      const first = result.content[0];
      return { ok: !result.isError, text: first?.type === "text" ? first.text : "" };
    } catch (error) {
      return { ok: false, text: (error as Error).message };
    }
  }

  /** The version /status says app serves (`serving <name> <version>`). */
  const serving = async () => (await daemon!.status()).servers.find((x) => x.prefix === "app")?.message ?? "";

  before(async () => {
    if (!(await dockerAvailable())) return;
    image = await ensureReliabilityProbe();
    base = await mkdtemp(path.join(tmpdir(), "rel-git-"));
    bare = path.join(base, "remote.git");
    work = path.join(base, "work");
    await exec("git", ["init", "-q", "--bare", "--initial-branch=main", bare]);
    await exec("git", ["clone", "-q", bare, work]);
    await git(work, "config", "user.email", "rel@example.com");
    await git(work, "config", "user.name", "rel");
    await mkdir(path.join(work, "registry/servers"), { recursive: true });
    await commit({ "app.yaml": probeYaml("app", image, { generation: 1 }) }, "one");
    daemon = await startCliDaemon({ owner: OWNER, git: { url: bare, pollSeconds: 1 }, env: { MCP_ROUTER_WEBHOOK_SECRET: WEBHOOK_SECRET } });
    client = await daemon.client();
  });

  after(async () => {
    await client?.close().catch(() => undefined);
    if (daemon) {
      const log = daemon.log();
      const exit = await daemon.stop();
      const hits = secretHits(log, [WEBHOOK_SECRET, daemon.key], "daemon stderr");
      const left = await listOurContainers(OWNER);
      figures.rows.push({ scenario: "7. secrets in the daemon's log", figure: `${hits.length} hits (webhook secret, API key) in ${log.split("\n").length} lines`, expectation: "0", pass: hits.length === 0 });
      figures.rows.push({ scenario: "cleanup", figure: `${left.length} containers left, exit ${exit.code ?? exit.signal}`, expectation: "0, exit 0", pass: left.length === 0 && exit.code === 0 });
      figures.print();
      await rm(base, { recursive: true, force: true });
      assert.deepEqual(hits, []);
      assert.deepEqual(left.map((c) => c.Id.slice(0, 12)), [], "no container of ours is left");
      assert.equal(exit.code, 0);
    } else figures.print();
  });

  it("5. the remote gone: the last good table serves and /status reports it; back: the new revision is applied", async (t) => {
    if (!(await requireDocker(t)) || !daemon) return;
    await figures.scenario("5. remote gone and back", async () => {
      const d = daemon!;
      const first = await d.status();
      assert.equal((await echo("one")).ok, true);
      // The remote disappears (moved away), and a new commit waits in it meanwhile.
      const hidden = `${bare}.away`;
      await rename(bare, hidden);
      const t0 = performance.now();
      const failing = await waitFor("/status to report the fetch failure", async () => {
        const s = await d.status();
        return s.lastError?.reason === "FetchFailed" && Date.parse(s.lastError.at) > Date.parse(first.lastAttemptAt ?? "0") ? s : undefined;
      }, 15_000, 100);
      const reportMs = since(t0);
      figures.check("5. remote gone", `/status: ${failing.lastError?.reason} after ${reportMs} ms ("${(failing.lastError?.message ?? "").slice(0, 60)}…")`, "FetchFailed within 2 polls", failing.lastError?.reason === "FetchFailed" && reportMs < 5000);
      // Calls during the outage.
      let ok = 0;
      let failed = 0;
      const outageEnd = Date.now() + 3000;
      while (Date.now() < outageEnd) {
        if ((await echo("during")).ok) ok++;
        else failed++;
      }
      const s = await d.status();
      figures.check("5. remote gone", `${ok} calls ok, ${failed} failed during a 3 s outage; applied revision unchanged: ${s.lastAppliedRevision === first.lastAppliedRevision}`, "0 failed, last good table serves", failed === 0 && ok > 0 && s.lastAppliedRevision === first.lastAppliedRevision);
      // Back, with a new commit on it.
      await rename(hidden, bare);
      const rev2 = await commit({ "app.yaml": probeYaml("app", image, { generation: 2 }) }, "two");
      const t1 = performance.now();
      const applied = await d.waitApplied(first.lastAppliedRevision, 60_000);
      const recoverMs = since(t1);
      const version = await serving();
      figures.check("5. remote back", `applied ${applied.lastAppliedRevision?.slice(0, 8)} after ${recoverMs} ms (poll backoff after ${s.failures - first.failures} failures); ${/ 1\.0\.2$/.test(version) ? "serves 1.0.2" : `STALE: ${version}`}`, "the new commit, < 30 s", applied.lastAppliedRevision === rev2 && recoverMs < 30_000 && / 1\.0\.2$/.test(version));
      assert.equal((await echo("two")).ok, true);
    });
  });

  it("5. a force-push rewrites the branch: the daemon applies the rewritten revision", async (t) => {
    if (!(await requireDocker(t)) || !daemon) return;
    await figures.scenario("5. force-push", async () => {
      const d = daemon!;
      const before = await d.status();
      // Drop the last commit and push a different one in its place.
      await git(work, "reset", "-q", "--hard", "HEAD~1");
      const rewritten = await commit({ "app.yaml": probeYaml("app", image, { generation: 3 }) }, "rewritten", true);
      const t0 = performance.now();
      const applied = await d.waitApplied(before.lastAppliedRevision, 30_000);
      const ms = since(t0);
      const version = await serving();
      const call = await echo("three");
      figures.check("5. force-push", `applied rewritten ${applied.lastAppliedRevision?.slice(0, 8)} after ${ms} ms; ${/ 1\.0\.3$/.test(version) ? "serves 1.0.3" : `STALE: ${version}`}; call ${call.ok ? "ok" : call.text}`, "rewritten commit applied, calls ok", applied.lastAppliedRevision === rewritten && / 1\.0\.3$/.test(version) && call.ok);
      // A broken commit on top: the last good version keeps serving, marked stale.
      const broken = await commit({ "app.yaml": probeYaml("app", image, { generation: 4 }).replace("version: 1.0.4", "version: latest") }, "broken");
      const attempted = await waitFor("the broken commit to be attempted", async () => {
        const s = await d.status();
        return s.lastAttemptedRevision === broken && s.servers.find((x) => x.prefix === "app")?.stale ? s : undefined;
      }, 30_000, 100);
      const app = attempted.servers.find((x) => x.prefix === "app");
      const still = await echo("four");
      figures.check("5. bad commit after force-push", `${app?.reason}, stale ${app?.stale}, serving ${app?.appliedRevision?.slice(0, 8)}; call ${still.ok ? "ok" : still.text}`, "ValidationFailed, last good (rewritten) serves", app?.reason === "ValidationFailed" && app.appliedRevision === rewritten && still.ok);
    });
  });
});
