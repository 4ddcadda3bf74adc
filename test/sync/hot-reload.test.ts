/**
 * The daemon's whole reload path with real parts: a watched registry directory, the reconciler,
 * the gateway over Streamable HTTP, and server-everything in a container. A client calls
 * continuously while the server's own file changes 50 times: no call fails, the shared container
 * is drained and replaced, and the client is told the tool list changed.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { callContinuously, everythingYaml, startTestDaemon, type TestDaemon } from "../support/daemon.js";
import { dockerAvailable, listOurContainers } from "../support/docker.js";

const OWNER = "test-hot-reload";

describe("hot reload under load", { timeout: 300_000 }, () => {
  let daemon: TestDaemon | undefined;

  before(async () => {
    if (!(await dockerAvailable())) {
      if (process.env.CI) throw new Error("Docker engine unavailable under CI: run .ci/docker-up.sh before the tests");
      return;
    }
    daemon = await startTestDaemon(OWNER, { "everything.yaml": everythingYaml(0) });
  });

  after(async () => {
    if (!daemon) return;
    await daemon.close();
    assert.deepEqual(await listOurContainers(OWNER), [], "no container of ours is left");
  });

  it("is ready, and GET /status needs the key", async (t) => {
    if (!daemon) return t.skip("no Docker engine; skipped outside CI");
    const { http, key } = daemon;
    assert.equal((await fetch(new URL("readyz", http.url))).status, 200);
    assert.equal((await fetch(new URL("status", http.url))).status, 401);
    const status = (await (await fetch(new URL("status", http.url), { headers: { authorization: `Bearer ${key}` } })).json()) as { ready: boolean; servers: { prefix: string; reason: string }[] };
    assert.equal(status.ready, true);
    assert.deepEqual(status.servers.map((s) => [s.prefix, s.reason]), [["everything", "Applied"]]);
  });

  it("a client calling continuously through 50 reloads sees no failed call, and gets tools/list_changed", async (t) => {
    if (!daemon) return t.skip("no Docker engine; skipped outside CI");
    const client = await daemon.client();
    let listChanged = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      listChanged++;
    });
    const startedBefore = daemon.launcher.stats().started;
    const calls = callContinuously(client);
    const reloads = 50;
    for (let i = 1; i <= reloads; i++) {
      await daemon.write("everything.yaml", everythingYaml(i));
      await new Promise((r) => setTimeout(r, 60));
    }
    const { ok, failures } = await calls.stop();
    const { tools } = await client.listTools();
    await client.close();

    assert.deepEqual(failures, [], `${failures.length} failed call(s) during ${reloads} reloads`);
    // Every reload replaces the shared container, so calls wait for new ones: few, but none lost.
    assert.ok(ok >= 5, `only ${ok} calls completed during the reloads`);
    assert.ok(listChanged >= 1, "the client was told the tool list changed");
    assert.match(tools.find((x) => x.name === "everything__echo")?.description ?? "", /reload 50/);
    assert.ok(daemon.launcher.stats().started > startedBefore, "changed shared servers were replaced by new containers");
    assert.ok(daemon.sync.status().reconciles >= reloads);
  });
});
