/**
 * Adding and editing a registry file from the console: the draft is checked by the daemon's own
 * loader (errors at their line, with hints; policy; grants; a prefix or name taken), comes with
 * the privilege summary, and a valid one is written into the registry folder and goes live.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { ConsoleClient, Json } from "../support/console-client.js";
import { openEvents, signIn } from "../support/console-client.js";
import type { InProcessDaemon } from "../support/in-process-daemon.js";
import { startInProcessDaemon } from "../support/in-process-daemon.js";

const draft = (over: { prefix?: string; name?: string; packageVersion?: string; extra?: string } = {}) => `name: ${over.name ?? "dev.mcp-router.test/drafted"}
description: drafted in the console
version: 1.0.0
packages:
  - registryType: npm
    identifier: "@mcp-router-test/probe"
    version: ${over.packageVersion ?? "1.0.0"}
    transport:
      type: stdio
${over.extra ?? ""}router:
  prefix: ${over.prefix ?? "drafted"}
`;

describe("console drafts", () => {
  let d: InProcessDaemon;
  let client: ConsoleClient;
  before(async () => {
    d = await startInProcessDaemon();
    client = await signIn(d.url, d.key);
  });
  after(() => d.close());

  const check = async (text: string, editing?: string) => (await client.request("drafts/check", { method: "POST", body: { text, ...(editing ? { editing } : {}) } })).body;

  it("a valid draft: where it goes, and what the server may do", async () => {
    const result = await check(draft());
    assert.equal(result.valid, true, JSON.stringify(result.diagnostics));
    assert.equal(result.file, "servers/drafted.yaml");
    assert.equal(result.privileges.name, "dev.mcp-router.test/drafted");
    assert.ok(Array.isArray(result.privileges.items));
  });

  it("errors come at their line, with the rule and a hint", async () => {
    const result = await check(draft({ packageVersion: "latest" }));
    assert.equal(result.valid, false);
    const problem = result.diagnostics.find((x: Json) => x.path === "packages[0].version");
    assert.ok(problem, JSON.stringify(result.diagnostics));
    assert.equal(problem.line, 7);
    const yaml = await check("name: [unclosed\n");
    assert.equal(yaml.valid, false);
    assert.match(yaml.diagnostics[0].rule, /^yaml\./);
    assert.ok(yaml.diagnostics[0].line >= 1 && yaml.diagnostics[0].line <= 2, "the flow sequence that never closes");
  });

  it("the operator's grants, policy, and the other files apply", async () => {
    const secret = await check(draft({ extra: "" }).replace("    transport:", "    environmentVariables:\n      - name: DRAFT_TOKEN\n        isSecret: true\n        isRequired: true\n    transport:"));
    assert.ok(secret.diagnostics.some((x: Json) => x.rule === "secret.not-granted" && /DRAFT_TOKEN/.test(x.message)), JSON.stringify(secret.diagnostics));
    const mount = await check(draft().replace("router:\n", "router:\n  mounts:\n    - source: /etc\n      target: /etc\n"));
    assert.equal(mount.valid, false);
    assert.ok(mount.privileges.items.some((i: Json) => i.setting === "mount" && i.refused));
    const taken = await check(draft({ prefix: "percall" }));
    assert.ok(taken.diagnostics.some((x: Json) => x.rule === "prefix.duplicate"), JSON.stringify(taken.diagnostics));
    assert.equal((await check(draft({ prefix: "percall", name: "dev.mcp-router.test/percall" }), "percall")).valid, true, "editing a file is not a clash with itself");
    const named = await check(draft({ name: "dev.mcp-router.test/slow" }));
    assert.ok(named.diagnostics.some((x: Json) => x.rule === "name.duplicate"), JSON.stringify(named.diagnostics));
  });

  it("editing names a server of the registry, never a path", async () => {
    for (const editing of ["../../../tmp/escape", "nothing-like-this", "PERCALL"]) {
      const refused = await client.request("drafts/check", { method: "POST", body: { text: "not: [valid", editing } });
      assert.equal(refused.status, 400, editing);
      assert.equal(refused.body.error.code, "DRAFT_BAD_EDITING");
    }
  });

  it("writes a valid draft into the registry folder, which applies it; refuses an invalid one or a clash", async () => {
    const noToken = await client.request("drafts/write", { method: "POST", body: { text: draft() }, csrf: false });
    assert.equal(noToken.status, 403);
    const invalid = await client.request("drafts/write", { method: "POST", body: { text: draft({ packageVersion: "latest" }) } });
    assert.equal(invalid.status, 422);
    assert.equal(invalid.body.written, false);
    await assert.rejects(readFile(join(d.registryDir, "servers", "drafted.yaml")));
    const events = await openEvents(d.url, client.cookie);
    try {
      const written = await client.request("drafts/write", { method: "POST", body: { text: draft() } });
      assert.equal(written.status, 200, JSON.stringify(written.body));
      assert.equal(written.body.written, true);
      assert.equal(await readFile(join(d.registryDir, "servers", "drafted.yaml"), "utf8"), draft());
      await events.next((o) => o.servers.some((s: Json) => s.prefix === "drafted" && s.condition === "live"));
    } finally {
      events.close();
    }
    const again = await client.request("drafts/write", { method: "POST", body: { text: draft() } });
    assert.equal(again.status, 422, "the prefix is now taken");
    const edited = await client.request("drafts/write", { method: "POST", body: { text: draft().replace("drafted in the console", "edited in the console"), editing: "drafted" } });
    assert.equal(edited.status, 200, JSON.stringify(edited.body));
    assert.match(await readFile(join(d.registryDir, "servers", "drafted.yaml"), "utf8"), /edited in the console/);
  });
});
