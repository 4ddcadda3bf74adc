/**
 * "Add a server" from a repository URL: the proposer runs in the daemon against GitHub (the test
 * suite's fake, at the HTTP boundary), its steps readable as they happen, and the proposed file
 * comes back as a draft for the editor (never written by itself).
 */
import assert from "node:assert/strict";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import type { ConsoleClient, Json } from "../support/console-client.js";
import { signIn } from "../support/console-client.js";
import { FakeApis } from "../support/fake-apis.js";
import type { InProcessDaemon } from "../support/in-process-daemon.js";
import { startInProcessDaemon } from "../support/in-process-daemon.js";
import { FIXTURES } from "../propose/dev-set.js";

describe("console proposals", () => {
  let fake: FakeApis;
  let d: InProcessDaemon;
  let client: ConsoleClient;
  before(async () => {
    fake = await new FakeApis().start();
    fake.addRepoFromDir("modelcontextprotocol/servers", path.join(FIXTURES, "repos/servers-memory"), { description: "Model Context Protocol Servers" });
    d = await startInProcessDaemon({ http: { console: { proposer: { githubApiUrl: fake.githubUrl, githubToken: "ghs_console_fake_token", githubThrottle: false } } } });
    client = await signIn(d.url, d.key);
  });
  after(async () => {
    await d.close();
    await fake.stop();
  });

  async function finished(id: string): Promise<Json> {
    for (let i = 0; i < 200; i++) {
      const job = (await client.request(`proposals/${id}`)).body;
      if (job.state !== "running") return job;
      await sleep(50);
    }
    throw new Error("the proposal did not finish");
  }

  it("proposes a file from a GitHub URL, step by step, as a draft the editor checks", async () => {
    const started = await client.request("proposals", { method: "POST", body: { url: "https://github.com/modelcontextprotocol/servers/tree/main/src/memory" } });
    assert.equal(started.status, 202);
    assert.equal(started.body.state, "running");
    const job = await finished(started.body.id);
    assert.equal(job.state, "done", JSON.stringify(job.error ?? job.steps));
    const messages = job.steps.map((s: Json) => s.message).join("\n");
    assert.match(messages, /gathering evidence/);
    assert.match(messages, /heuristics/);
    assert.match(messages, /validation/);
    assert.equal(job.result.llm.used, false);
    assert.match(job.result.yaml, /server-memory/);
    assert.equal(job.result.file, `servers/${job.result.prefix}.yaml`);
    const checked = (await client.request("drafts/check", { method: "POST", body: { text: job.result.yaml } })).body;
    assert.equal(checked.file, job.result.file);
    assert.ok(fake.requests.some((r) => r.path.includes("/repos/modelcontextprotocol/servers")), "read through the GitHub API");
    assert.equal(JSON.stringify(job).includes("ghs_console_fake_token"), false);
  });

  it("a URL that is not a GitHub repository is refused in place; a repository that cannot be read fails with the reason", async () => {
    for (const url of ["", "/etc", "ftp://example.com/x", "https://gitlab.com/a/b"]) {
      const refused = await client.request("proposals", { method: "POST", body: { url } });
      assert.equal(refused.status, 400, url);
      assert.equal(refused.body.error.code, "PROPOSAL_BAD_URL");
    }
    const started = await client.request("proposals", { method: "POST", body: { url: "https://github.com/nobody/nothing-here" } });
    const job = await finished(started.body.id);
    assert.equal(job.state, "failed");
    assert.ok(job.error.message.length > 0);
    assert.equal((await client.request("proposals", { method: "POST", body: { url: "https://github.com/a/b" }, csrf: false })).status, 403);
  });

  it("a proposal is only readable by the key that started it", async () => {
    const started = await client.request("proposals", { method: "POST", body: { url: "https://github.com/modelcontextprotocol/servers/tree/main/src/memory" } });
    await finished(started.body.id);
    assert.equal((await client.request("proposals/not-an-id")).status, 404);
  });
});
