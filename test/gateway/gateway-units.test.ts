/** Pure parts of the gateway: routing table, holder, API keys, Claude Desktop config. No Docker. */
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { bearerMatches, isLoopback, resolveApiKeys } from "../../src/auth/api-keys.js";
import type { Catalog } from "../../src/gateway/catalog.js";
import { desktopConfigPath, installDesktopConfig, mergeDesktopConfig } from "../../src/cli/desktop-config.js";
import { buildRoutingTable, namespacedName, splitUri, toolAllowed } from "../../src/gateway/routing-table.js";
import { TableHolder } from "../../src/gateway/table-holder.js";
import { npmPackage, testServer } from "../support/servers.js";

const tool = (name: string): Tool => ({ name, description: `does ${name}`, inputSchema: { type: "object" } });

function catalog(hash: string, tools: string[], extra: Partial<Catalog> = {}): Catalog {
  return { hash, tools: tools.map(tool), resources: [], resourceTemplates: [], prompts: [], completions: false, logging: false, source: "discovered", ...extra };
}

describe("routing table", () => {
  const a = testServer("alpha", npmPackage("@modelcontextprotocol/server-memory"), { denyTools: ["delete_*"] });
  const b = testServer("beta", npmPackage("@modelcontextprotocol/server-memory"), { allowTools: ["read_*", "search"] });
  const c = testServer("gamma", npmPackage("@modelcontextprotocol/server-memory"), { tools: [{ name: "from_registry", inputSchema: { type: "object" } }] });
  const off = testServer("off", npmPackage("@modelcontextprotocol/server-memory"), { enabled: false });
  const catalogs = new Map([
    [a.hash, catalog(a.hash, ["read_graph", "delete_entities"], { resources: [{ uri: "file:///x", name: "x" }], resourceTemplates: [{ uriTemplate: "demo://t/{id}", name: "t" }] })],
    [b.hash, catalog(b.hash, ["read_graph", "search", "write"], { resources: [{ uri: "file:///x", name: "x" }], prompts: [{ name: "p" }] })],
  ]);

  it("namespaces tools, applies allow/deny, serves router.tools, leaves disabled servers out", () => {
    const table = buildRoutingTable([a, b, c, off], catalogs);
    assert.deepEqual([...table.tools.keys()].sort(), ["alpha__read_graph", "beta__read_graph", "beta__search", "gamma__from_registry"]);
    assert.equal(table.tools.get("beta__search")?.original, "search");
    assert.equal(table.servers.has("off"), false);
    assert.equal(table.servers.get("gamma")?.ready, true);
    assert.equal(toolAllowed(a, "delete_entities"), false);
    assert.equal(toolAllowed(b, "write"), false);
  });

  it("never shadows: equal resource URIs of two servers are both listed, namespaced", () => {
    const table = buildRoutingTable([a, b], catalogs);
    assert.deepEqual(table.resourceList.map((r) => r.uri).sort(), ["alpha+file:///x", "beta+file:///x"]);
    assert.deepEqual(table.templateList.map((t) => t.uriTemplate), ["alpha+demo://t/{id}"]);
    assert.deepEqual(splitUri(table, "beta+file:///x") && { p: splitUri(table, "beta+file:///x")?.routes.server.prefix, o: splitUri(table, "beta+file:///x")?.original }, { p: "beta", o: "file:///x" });
    assert.deepEqual(table.promptList.map((p) => p.name), ["beta__p"]);
  });

  it("reports a name collision and keeps both tools under distinct names", () => {
    const x = testServer("x", npmPackage("@modelcontextprotocol/server-memory"));
    const xy = testServer("x__y", npmPackage("@modelcontextprotocol/server-memory"));
    const table = buildRoutingTable([x, xy], new Map([[x.hash, catalog(x.hash, ["y__z"])], [xy.hash, catalog(xy.hash, ["z"])]]));
    assert.equal(table.tools.size, 2);
    assert.equal(table.conflicts.length, 1);
    assert.equal(table.conflicts[0]?.name, "x__y__z");
  });

  it("makes valid MCP tool names of at most 128 characters", () => {
    assert.equal(namespacedName("fs", "read file"), namespacedName("fs", "read file"));
    assert.match(namespacedName("fs", "read file"), /^fs__read_file_[0-9a-f]{6}$/);
    const long = namespacedName("p", "t".repeat(300));
    assert.equal(long.length, 128);
    assert.match(long, /^[A-Za-z0-9_.-]+$/);
  });

  it("the holder swaps atomically, notifies, and a reader keeps the table it took", () => {
    const holder = new TableHolder(buildRoutingTable([a], catalogs));
    const seen: number[] = [];
    const unsubscribe = holder.subscribe((next) => seen.push(next.version));
    const inFlight = holder.current();
    const next = buildRoutingTable([a, b], catalogs);
    holder.swap(next);
    assert.equal(inFlight.tools.has("beta__search"), false, "the old table is unchanged");
    assert.equal(holder.current(), next);
    assert.deepEqual(seen, [next.version]);
    unsubscribe();
    assert.equal(holder.subscribers, 0);
    assert.ok(Object.isFrozen(next));
  });
});

describe("API keys", () => {
  it("generates a key once, stores it 0600, reuses it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mcp-keys-"));
    const first = await resolveApiKeys([], dir);
    assert.ok(first.generated);
    assert.equal((await stat(join(dir, "api-key"))).mode & 0o777, 0o600);
    const second = await resolveApiKeys([], dir);
    assert.equal(second.generated, undefined);
    assert.deepEqual(second.keys, first.keys);
    assert.deepEqual((await resolveApiKeys(["given-key-0123456789"], dir)).keys, ["given-key-0123456789"]);
    await assert.rejects(resolveApiKeys(["short"], dir), /API_KEY_TOO_SHORT/);
  });

  it("compares bearer tokens", () => {
    const keys = ["k1-aaaaaaaaaaaaaaaa", "k2-bbbbbbbbbbbbbbbb"];
    assert.equal(bearerMatches("Bearer k2-bbbbbbbbbbbbbbbb", keys), true);
    assert.equal(bearerMatches("bearer k1-aaaaaaaaaaaaaaaa", keys), true);
    assert.equal(bearerMatches("Bearer k1-aaaaaaaaaaaaaaa", keys), false);
    assert.equal(bearerMatches("Basic k1-aaaaaaaaaaaaaaaa", keys), false);
    assert.equal(bearerMatches(undefined, keys), false);
    assert.equal(isLoopback("127.0.0.1") && isLoopback("::1") && isLoopback("localhost"), true);
    assert.equal(isLoopback("0.0.0.0"), false);
  });
});

describe("Claude Desktop config", () => {
  it("knows the path on macOS, Windows and Linux", () => {
    assert.equal(desktopConfigPath("darwin", {}, "/Users/u"), "/Users/u/Library/Application Support/Claude/claude_desktop_config.json");
    assert.equal(desktopConfigPath("win32", { APPDATA: "C:\\Users\\u\\AppData\\Roaming" }, "C:\\Users\\u"), "C:\\Users\\u\\AppData\\Roaming\\Claude\\claude_desktop_config.json");
    assert.equal(desktopConfigPath("linux", {}, "/home/u"), "/home/u/.config/Claude/claude_desktop_config.json");
  });

  it("merges the entry, keeps other entries and settings, writes a backup", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mcp-desktop-"));
    const file = join(dir, "claude_desktop_config.json");
    await writeFile(file, JSON.stringify({ theme: "dark", mcpServers: { other: { command: "x", args: [] } } }));
    const result = await installDesktopConfig(file, "mcp-router", { command: "/usr/bin/node", args: ["cli.js", "stdio"] });
    const merged = JSON.parse(await readFile(file, "utf8")) as { theme: string; mcpServers: Record<string, unknown> };
    assert.equal(merged.theme, "dark");
    assert.deepEqual(Object.keys(merged.mcpServers).sort(), ["mcp-router", "other"]);
    assert.ok(result.backup);
    assert.equal(JSON.parse(await readFile(result.backup, "utf8")).theme, "dark");
    assert.equal((await readdir(dir)).length, 2);
    assert.throws(() => mergeDesktopConfig("{not json", "x", { command: "c", args: [] }), /DESKTOP_CONFIG_INVALID/);
    const fresh = join(dir, "new", "claude_desktop_config.json");
    assert.equal((await installDesktopConfig(fresh, "mcp-router", { command: "c", args: [] })).backup, undefined);
  });
});
