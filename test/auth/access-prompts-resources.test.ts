/**
 * The access policy on prompts, resources and completions, against server-everything in process:
 * a key granted one prompt and one resource sees exactly those in `prompts/list` and
 * `resources/list` (templates by their URI template), gets and reads them, and is refused the
 * others (and completions of a prompt it may not use) with the grant it lacks, in both eras.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { apiKeyId } from "../../src/auth/api-keys.js";
import type { Daemon } from "../../src/daemon/start-daemon.js";
import { startDaemon } from "../../src/daemon/start-daemon.js";
import { ACCESS_DENIED } from "../../src/gateway/access-view.js";
import { staticSecretSource } from "../../src/secrets/secret-source.js";
import { testServers } from "../gateway/fixture.js";
import { InProcessLauncher } from "../support/in-process-launcher.js";
import { EVERYTHING_PACKAGE, everythingUpstream } from "../support/in-process-servers.js";
import type { RawReply } from "../support/mcp-raw.js";
import { modernRequest, openSession } from "../support/mcp-raw.js";
import { writeRegistry } from "../support/servers.js";

const WIDE = "test-key-access-wide-0123456789";
const NARROW = "test-key-access-narrow-0123456789";

describe("the access policy on prompts, resources and completions", () => {
  let dir: string;
  let daemon: Daemon;
  let prompts: string[];
  let resources: string[];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "mcp-router-access-pr-"));
    const registry = join(dir, "registry");
    await writeRegistry(registry, [testServers().everything]);
    await writeFile(join(registry, "access.yaml"), `grants:\n  - who: ["key:${apiKeyId(WIDE)}"]\n    servers: ["*"]\n`);
    daemon = await startDaemon({
      registry: { dir: registry },
      dataDir: join(dir, "data"),
      secrets: staticSecretSource({}),
      log: { level: "silent" },
      http: { host: "127.0.0.1", port: 0, apiKeys: [WIDE, NARROW] },
      launcher: new InProcessLauncher({ upstreams: { [EVERYTHING_PACKAGE]: await everythingUpstream() } }),
    });
    await daemon.sync.started;
    const url = daemon.url!;
    prompts = ((await modernRequest(url, "/mcp", WIDE, "prompts/list")).body.result?.prompts as { name: string }[]).map((p) => p.name);
    resources = ((await modernRequest(url, "/mcp", WIDE, "resources/list")).body.result?.resources as { uri: string }[]).map((r) => r.uri);
    assert.ok(prompts.length >= 2 && resources.length >= 2, "server-everything offers several prompts and resources");
    assert.equal((await modernRequest(url, "/mcp", NARROW, "prompts/list")).body.result?.prompts instanceof Array, true);
    const original = (namespaced: string, sep: string) => namespaced.slice(namespaced.indexOf(sep) + sep.length);
    await writeFile(
      join(registry, "access.yaml"),
      `grants:\n  - who: ["key:${apiKeyId(WIDE)}"]\n    servers: ["*"]\n  - who: ["key:${apiKeyId(NARROW)}"]\n    servers: ["everything"]\n    tools: ["echo"]\n    prompts: [${JSON.stringify(original(prompts[0]!, "__"))}]\n    resources: [${JSON.stringify(original(resources[0]!, "+"))}]\n`,
    );
    await daemon.sync.reconciler.request("test: narrow grant");
  });
  after(async () => {
    await daemon.close();
    await rm(dir, { recursive: true, force: true });
  });

  const denied = (reply: RawReply, kind: string) => {
    assert.equal(reply.body.error?.code, ACCESS_DENIED, JSON.stringify(reply.body));
    assert.match(reply.body.error?.message ?? "", new RegExp(`^key:${apiKeyId(NARROW)} may not use ${kind} `));
  };

  it("lists only the granted prompt and resource (2026 and 2025), and no template the grant does not name", async () => {
    const url = daemon.url!;
    const session = await openSession(url, "/mcp", NARROW);
    try {
      for (const ask of [(m: string) => modernRequest(url, "/mcp", NARROW, m), (m: string) => session.request(m)]) {
        assert.deepEqual(((await ask("prompts/list")).body.result?.prompts as { name: string }[]).map((p) => p.name), [prompts[0]]);
        assert.deepEqual(((await ask("resources/list")).body.result?.resources as { uri: string }[]).map((r) => r.uri), [resources[0]]);
        assert.deepEqual((await ask("resources/templates/list")).body.result?.resourceTemplates, []);
      }
    } finally {
      await session.close();
    }
  });

  it("gets and reads what is granted, and refuses the rest naming the grant", async () => {
    const url = daemon.url!;
    const read = await modernRequest(url, "/mcp", NARROW, "resources/read", { uri: resources[0] });
    assert.equal(read.body.error, undefined, JSON.stringify(read.body));
    denied(await modernRequest(url, "/mcp", NARROW, "resources/read", { uri: resources[1] }), "resource");
    denied(await modernRequest(url, "/mcp", NARROW, "prompts/get", { name: prompts[1] }), "prompt");
    denied(await modernRequest(url, "/mcp", NARROW, "completion/complete", { ref: { type: "ref/prompt", name: prompts[1] }, argument: { name: "x", value: "" } }), "prompt");
    const session = await openSession(url, "/mcp", NARROW);
    try {
      denied(await session.request("resources/read", { uri: resources[1] }), "resource");
      denied(await session.request("resources/subscribe", { uri: resources[1] }), "resource");
      denied(await session.request("prompts/get", { name: prompts[1] }), "prompt");
    } finally {
      await session.close();
    }
  });
});
