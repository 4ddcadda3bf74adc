/**
 * Multi-round-trip requests for 2026 clients whose upstream asks mid-call: the state machine on
 * its own (rounds, sealing, expiry, bounds), then end to end: an SDK v2 client pinned to
 * 2026-07-28 calls server-everything's sampling and elicitation tools through the daemon (an
 * in-process upstream spoken to in the 2025 era); the client's own handlers answer the
 * `input_required` rounds and the call completes with their answers.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import type { Daemon } from "../../src/daemon/start-daemon.js";
import { startDaemon } from "../../src/daemon/start-daemon.js";
import { InputRounds } from "../../src/gateway/input-rounds.js";
import type { Ask } from "../../src/gateway/input-rounds.js";
import { staticSecretSource } from "../../src/secrets/secret-source.js";
import { InProcessLauncher } from "../support/in-process-launcher.js";
import { EVERYTHING_PACKAGE, everythingUpstream } from "../support/in-process-servers.js";
import { writeRegistry } from "../support/servers.js";
import { testServers } from "./fixture.js";

const binding = { principal: "key-a", method: "tools/call", target: "t" };
const live = () => new AbortController().signal;

describe("InputRounds", () => {
  it("pauses on a question, resumes with the answer, and completes; several rounds in a row", async () => {
    const rounds = new InputRounds();
    const first = await rounds.start(
      binding,
      async (ask: Ask) => {
        const name = (await ask({ method: "elicitation/create", params: { message: "name?" } })) as { content: { name: string } };
        const city = (await ask({ method: "elicitation/create", params: { message: "city?" } })) as { content: { city: string } };
        return { text: `${name.content.name} in ${city.content.city}` };
      },
      live(),
    );
    assert.equal(first.kind, "input_required");
    if (first.kind !== "input_required") return;
    const [key1] = Object.keys(first.inputRequests);
    assert.equal(first.inputRequests[key1 as string]?.params?.message, "name?");
    assert.equal(rounds.pausedCount, 1);
    const second = await rounds.resume(binding, first.requestState, { [key1 as string]: { action: "accept", content: { name: "Ada" } } }, live());
    assert.equal(second.kind, "input_required");
    if (second.kind !== "input_required") return;
    const [key2] = Object.keys(second.inputRequests);
    assert.notEqual(key2, key1);
    const done = await rounds.resume(binding, second.requestState, { [key2 as string]: { action: "accept", content: { city: "Lisbon" } } }, live());
    assert.deepEqual(done, { kind: "complete", result: { text: "Ada in Lisbon" } });
    assert.equal(rounds.pausedCount, 0);
  });

  it("asks again for what was not answered, and ignores answers to questions never asked", async () => {
    const rounds = new InputRounds();
    const first = await rounds.start(binding, async (ask) => ask({ method: "sampling/createMessage", params: {} }), live());
    assert.ok(first.kind === "input_required");
    const again = await rounds.resume(binding, first.requestState, { unrelated: { x: 1 } }, live());
    assert.ok(again.kind === "input_required");
    assert.deepEqual(Object.keys(again.inputRequests), Object.keys(first.inputRequests));
    const done = await rounds.resume(binding, again.requestState, { [Object.keys(again.inputRequests)[0] as string]: { ok: true } }, live());
    assert.deepEqual(done, { kind: "complete", result: { ok: true } });
  });

  it("refuses altered, foreign, replayed and expired state with -32602 and a way out", async () => {
    const rounds = new InputRounds({ roundTimeoutMs: 60_000 });
    const first = await rounds.start(binding, async (ask) => ask({ method: "elicitation/create" }), live());
    assert.ok(first.kind === "input_required");
    const [payload, mac] = first.requestState.split(".");
    const forged = `${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload as string, "base64url").toString()), principal: "key-b" })).toString("base64url")}.${mac}`;
    for (const [state, bind, why] of [
      [forged, { ...binding, principal: "key-b" }, /altered/],
      [first.requestState, { ...binding, principal: "key-b" }, /another request/],
      [first.requestState, { ...binding, target: "other-tool" }, /another request/],
      ["garbage", binding, /not one the gateway issued/],
    ] as const) {
      await assert.rejects(rounds.resume(bind, state, {}, live()), (e: Error & { code?: number }) => e.code === -32602 && why.test(e.message) && /without requestState/.test(e.message));
    }
    const key = Object.keys(first.inputRequests)[0] as string;
    assert.equal((await rounds.resume(binding, first.requestState, { [key]: 1 }, live())).kind, "complete");
    await assert.rejects(rounds.resume(binding, first.requestState, { [key]: 1 }, live()), /no longer waiting/, "a used state does not resume twice");
  });

  it("ends a call nobody resumes within the round timeout: its question fails and its signal aborts", async () => {
    const rounds = new InputRounds({ roundTimeoutMs: 50 });
    let aborted: unknown;
    let questionFailed: Error | undefined;
    const first = await rounds.start(
      binding,
      async (ask, signal) => {
        signal.addEventListener("abort", () => (aborted = signal.reason));
        try {
          return await ask({ method: "elicitation/create" });
        } catch (error) {
          questionFailed = error as Error;
          throw error;
        }
      },
      live(),
    );
    assert.ok(first.kind === "input_required");
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.match(String(questionFailed?.message), /did not answer within/);
    assert.ok(aborted, "the call's signal aborted (a per-call container is killed)");
    assert.equal(rounds.pausedCount, 0);
    await assert.rejects(rounds.resume(binding, first.requestState, {}, live()), /no longer waiting|expired/);
  });
});

describe("a 2026 client through the gateway to an upstream that asks in the 2025 way", () => {
  let dir: string;
  let daemon: Daemon;
  const KEY = "test-key-rounds-0123456789";

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "mcp-router-rounds-"));
    await writeRegistry(join(dir, "registry"), [testServers().everything]);
    daemon = await startDaemon({
      registry: { dir: join(dir, "registry") },
      dataDir: join(dir, "data"),
      secrets: staticSecretSource({}),
      log: { level: "silent" },
      http: { host: "127.0.0.1", port: 0, apiKeys: [KEY] },
      launcher: new InProcessLauncher({ upstreams: { [EVERYTHING_PACKAGE]: await everythingUpstream() } }),
    });
    await daemon.sync.started;
  });
  after(async () => {
    await daemon.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("answers sampling and elicitation through input_required rounds; the call completes with the client's answers", async () => {
    const client = new Client({ name: "rounds", version: "1.0.0" }, { versionNegotiation: { mode: { pin: "2026-07-28" } }, capabilities: { sampling: {}, elicitation: {} } });
    let sampled = 0;
    let elicited = 0;
    client.setRequestHandler("sampling/createMessage", async () => {
      sampled += 1;
      return { model: "test-model", role: "assistant", content: { type: "text", text: "sampled by the 2026 client" } };
    });
    client.setRequestHandler("elicitation/create", async () => {
      elicited += 1;
      return { action: "accept", content: { color: "teal" } };
    });
    await client.connect(new StreamableHTTPClientTransport(new URL("mcp", daemon.url), { requestInit: { headers: { authorization: `Bearer ${KEY}` } } }));
    try {
      const sampling = await client.callTool({ name: "everything__trigger-sampling-request", arguments: { prompt: "say hi" } });
      assert.equal(sampled, 1);
      assert.match(JSON.stringify(sampling), /sampled by the 2026 client/);
      const elicitation = await client.callTool({ name: "everything__trigger-elicitation-request", arguments: {} });
      assert.equal(elicited, 1);
      assert.match(JSON.stringify(elicitation), /accept/);
      assert.equal(daemon.runtime.gateway.rounds.pausedCount, 0, "no call is left waiting");
    } finally {
      await client.close();
    }
  });
});
