/** `serve` serves the console at / unless --no-console; its settings are checked. */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli } from "../../src/cli/program.js";
import { testCliContext } from "../support/cli.js";
import { signIn } from "../support/console-client.js";

const KEY = "console-cli-test-key-0123456789";

describe("serve and the console", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "mcp-router-console-cli-"));
    await mkdir(join(dir, "registry", "servers"), { recursive: true });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function serve(...flags: string[]): Promise<{ url: URL; err: string; close(): Promise<void> }> {
    const ctx = testCliContext({ env: { MCP_ROUTER_API_KEYS: KEY } });
    const closers: (() => Promise<void>)[] = [];
    ctx.onShutdown = (close) => void closers.push(close as () => Promise<void>);
    const code = await runCli(["serve", "--port", "0", "--registry", join(dir, "registry"), "--data-dir", join(dir, "data"), "--log-format", "json", "--log-level", "silent", ...flags], ctx);
    assert.equal(code ?? 0, 0, ctx.err());
    const url = /listening: (http:\/\/[^/]+\/)mcp/.exec(ctx.err())?.[1];
    assert.ok(url, ctx.err());
    return { url: new URL(url), err: ctx.err(), close: async () => void (await Promise.all(closers.map((c) => c()))) };
  }

  it("serves the console by default and says where; its Connect page has the Claude Desktop entry for this registry", async () => {
    const daemon = await serve();
    try {
      assert.match(daemon.err, /\(web console\)/);
      assert.equal((await fetch(daemon.url)).status, 200);
      const client = await signIn(daemon.url, KEY);
      const connect = (await client.request("connect")).body;
      assert.equal(connect.authRequired, true);
      assert.equal(connect.desktop.install, `mcp-router desktop-config --install --registry ${join(dir, "registry")}`);
      const entry = JSON.parse(connect.desktop.config).mcpServers["mcp-router"];
      assert.deepEqual(entry.args.slice(-3), ["stdio", "--registry", join(dir, "registry")]);
    } finally {
      await daemon.close();
    }
  });

  it("--no-console: no page, no API", async () => {
    const daemon = await serve("--no-console");
    try {
      assert.doesNotMatch(daemon.err, /web console/);
      assert.equal((await fetch(daemon.url, { headers: { authorization: `Bearer ${KEY}` } })).status, 404);
      assert.equal((await fetch(new URL("/api/console/session", daemon.url), { headers: { authorization: `Bearer ${KEY}` } })).status, 404);
    } finally {
      await daemon.close();
    }
  });

  it("refuses an idle time that is not a positive number of minutes", async () => {
    const ctx = testCliContext({ env: { MCP_ROUTER_API_KEYS: KEY } });
    const code = await runCli(["serve", "--port", "0", "--registry", join(dir, "registry"), "--data-dir", join(dir, "data"), "--console-idle-minutes", "soon"], ctx);
    assert.notEqual(code, 0);
    assert.match(ctx.err(), /--console-idle-minutes soon is not a positive number of minutes[\s\S]*--console-idle-minutes 30/);
  });
});
