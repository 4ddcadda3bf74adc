/**
 * Reliability suite, part 4: the Docker engine restarted under a running daemon. Calls during
 * the outage fail clearly (within the server's timeout, never hang); once the engine is back a
 * per-call server starts fresh containers again; nothing leaks. The engine is restarted the way
 * .ci/docker-up.sh starts it (dockerd in the background, waiting for `docker info`).
 *
 * And a daemon started while no engine runs: its container servers fail to prepare with a clear
 * reason, the daemon settles and serves the rest, and once the engine comes up its prepare retries
 * bring them live, no restart needed.
 *
 * This disturbs every other Docker user of the machine, so on a workstation it runs only when
 * asked (RELIABILITY_DOCKER_RESTART=1); under CI (CI set, the engine is the job's own) it always runs.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { openSync } from "node:fs";
import { after, before, it } from "node:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { describeWhen, dockerAvailable, listOurContainers, requireDocker, run } from "../support/docker.js";
import { ensureReliabilityProbe, probeYaml, startCliDaemon, type CliDaemon } from "./cli-daemon.js";
import { Figures, since, waitFor } from "./figures.js";

const OWNER = "rel-docker-restart";
const TIMEOUT_SECONDS = 5;
const enabled = process.env.RELIABILITY_DOCKER_RESTART === "1" || Boolean(process.env.CI);
const figures = new Figures("Docker engine restarted");

async function dockerdPid(): Promise<number | undefined> {
  const { stdout } = await run("pgrep", ["-x", "dockerd"]).catch(() => ({ stdout: "" }));
  const pid = Number(stdout.trim().split("\n")[0]);
  return pid > 0 ? pid : undefined;
}

const engineAnswers = () =>
  run("docker", ["info", "--format", "{{.ServerVersion}}"]).then(
    () => true,
    () => false,
  );

/** Stops dockerd by its pid and waits until it is gone. */
async function stopEngine(): Promise<void> {
  const pid = await dockerdPid();
  assert.ok(pid, "dockerd runs on this machine (start it with .ci/docker-up.sh)");
  process.kill(pid, "SIGTERM");
  await waitFor("dockerd to exit", async () => !(await dockerdPid()), 60_000, 200);
}

/** Starts dockerd as .ci/docker-up.sh does and waits until `docker info` answers. */
async function startEngine(): Promise<void> {
  const log = openSync(process.env.DOCKERD_LOG ?? "/tmp/dockerd.log", "a");
  spawn("dockerd", [], { detached: true, stdio: ["ignore", log, log] }).unref();
  await waitFor("`docker info` to answer", engineAnswers, 60_000, 500);
}

describeWhen(enabled, "reliability: Docker engine restart", { timeout: 240_000, reason: "restarts the machine's Docker engine: runs under CI, or with RELIABILITY_DOCKER_RESTART=1", failUnderCi: false }, () => {
  let daemon: CliDaemon | undefined;
  let client: Client;

  async function call(text: string): Promise<{ ok: boolean; text: string; ms: number }> {
    const t0 = performance.now();
    try {
      const result = (await client.callTool({ name: "app__echo", arguments: { text } }, undefined, { timeout: 120_000 })) as CallToolResult;
      const first = result.content[0];
      return { ok: !result.isError && first?.type === "text" && first.text === text, text: first?.type === "text" ? first.text : "", ms: since(t0) };
    } catch (error) {
      return { ok: false, text: (error as Error).message, ms: since(t0) };
    }
  }

  before(async () => {
    if (!(await dockerAvailable())) return;
    const image = await ensureReliabilityProbe();
    daemon = await startCliDaemon({ owner: OWNER, files: { "app.yaml": probeYaml("app", image, { timeoutSeconds: TIMEOUT_SECONDS }) } });
    client = await daemon.client();
  });

  after(async () => {
    // Whatever happened, leave an engine running for the rest of CI.
    if (enabled && !(await engineAnswers())) await startEngine();
    await client?.close().catch(() => undefined);
    if (daemon) {
      const exit = await daemon.stop();
      const left = await listOurContainers(OWNER);
      figures.rows.push({ scenario: "cleanup", figure: `${left.length} containers left, exit ${exit.code ?? exit.signal}`, expectation: "0, exit 0", pass: left.length === 0 && exit.code === 0 });
      figures.print();
      assert.deepEqual(left.map((c) => c.Id.slice(0, 12)), [], "no container of ours is left");
    } else figures.print();
  });

  it("4. calls fail clearly while the engine is down and succeed again once it is back", async (t) => {
    if (!(await requireDocker(t)) || !daemon) return;
    await figures.scenario("4. Docker engine restarted", async () => {
      const first = await call("before");
      assert.ok(first.ok, first.text);
      const t0 = performance.now();
      await stopEngine();
      const downMs = since(t0);
      const during = await call("during");
      figures.check(
        "4. engine down",
        `call ${during.ok ? "SUCCEEDED?" : "failed"} after ${during.ms} ms: "${during.text.slice(0, 90)}…"`,
        `a clear error within the timeout (${TIMEOUT_SECONDS} s)`,
        !during.ok && during.ms < TIMEOUT_SECONDS * 1000 && /docker|engine|start/i.test(during.text),
        during.text,
      );
      const healthy = (await daemon!.fetch("healthz")).status;
      figures.check("4. engine down", `daemon /healthz ${healthy}`, "200 (the daemon stays up)", healthy === 200);
      const t1 = performance.now();
      await startEngine();
      const upMs = since(t1);
      const t2 = performance.now();
      let attempts = 0;
      const back = await waitFor(
        "a call to succeed again",
        async () => {
          attempts++;
          const r = await call("after");
          return r.ok ? r : undefined;
        },
        60_000,
        200,
      );
      const recoverMs = since(t2);
      figures.check(
        "4. engine back",
        `first call ok ${recoverMs} ms after \`docker info\` answered (${attempts} attempts; engine stop ${downMs} ms, start ${upMs} ms); call took ${back.ms} ms`,
        "calls succeed again, < 10 s after the engine is back",
        recoverMs < 10_000,
      );
      const again = await call("again");
      figures.check("4. engine back", `next call ${again.ok ? `ok in ${again.ms} ms` : again.text}`, "succeeds (fresh container)", again.ok);
    });
  });

  it("4b. a daemon started before the engine picks it up when it comes: its servers go live without a restart", async (t) => {
    if (!(await requireDocker(t)) || !daemon) return;
    await figures.scenario("4b. engine starts after the daemon", async () => {
      const image = await ensureReliabilityProbe();
      await stopEngine();
      const late = await startCliDaemon({ owner: `${OWNER}-late`, files: { "late.yaml": probeYaml("late", image) } });
      try {
        const down = (await late.status()).servers.find((s) => s.prefix === "late");
        figures.check(
          "4b. no engine at start",
          `late: ${down?.reason}: "${(down?.message ?? "").slice(0, 80)}…"`,
          "PrepareFailed, saying no engine answers",
          down?.reason === "PrepareFailed" && /ENGINE_UNAVAILABLE|no Docker engine/.test(down.message),
        );
        const ready = (await fetch(new URL("readyz", late.url))).status;
        figures.check("4b. no engine at start", `/readyz ${ready}`, "200 (every first prepare finished, one failed)", ready === 200);
        const t0 = performance.now();
        await startEngine();
        const live = await waitFor(
          "the late server to go live",
          async () => ((await late.status()).servers.find((s) => s.prefix === "late")?.reason === "Applied" ? true : undefined),
          120_000,
          500,
        );
        const liveMs = since(t0);
        const lateClient = await late.client("late");
        try {
          const result = (await lateClient.callTool({ name: "late__echo", arguments: { text: "late" } })) as CallToolResult;
          const first = result.content[0];
          figures.check(
            "4b. engine comes up",
            `live ${(liveMs / 1000).toFixed(1)} s after the engine started (prepare retries back off 5 s doubling to 60 s); a call ${first?.type === "text" && first.text === "late" ? "succeeds" : "FAILED"}`,
            "live and callable without a restart",
            live === true && first?.type === "text" && first.text === "late",
          );
        } finally {
          await lateClient.close();
        }
      } finally {
        await late.stop();
        if (!(await engineAnswers())) await startEngine();
        for (const c of await listOurContainers(`${OWNER}-late`)) await run("docker", ["rm", "-f", c.Id]).catch(() => undefined);
      }
    });
  });
});
