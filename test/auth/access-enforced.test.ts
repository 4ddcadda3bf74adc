/**
 * The access policy enforced end to end: a daemon serving the in-process probe servers, with a
 * real OpenID provider's tokens and an API key, and an `access.yaml` in its registry. Two OAuth
 * principals with different grants (by group claim, by subject) each see and call exactly their
 * tools, in both protocol eras, on /mcp and on the per-server endpoints, over SSE and in
 * hierarchical mode; a forbidden call names the missing grant; the policy hot-reloads with the
 * registry, and a broken new version leaves the last good one serving.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { apiKeyId } from "../../src/auth/api-keys.js";
import { ACCESS_DENIED } from "../../src/gateway/access-view.js";
import type { InProcessDaemon } from "../support/in-process-daemon.js";
import { IN_PROCESS_KEY, startInProcessDaemon } from "../support/in-process-daemon.js";
import type { RawReply } from "../support/mcp-raw.js";
import { modernRequest, openSession } from "../support/mcp-raw.js";
import type { TestIssuer } from "../support/oidc-issuer.js";
import { startTestIssuer } from "../support/oidc-issuer.js";

const PROBE_TOOLS = ["crash", "remember", "wait-for-cancel", "whoami"];

const POLICY = `grants:
  - who: ["group:eng"]
    servers: ["percall"]
  - who: ["subject:bob"]
    servers: ["persession"]
    tools: ["whoami"]
  - who: ["key:${apiKeyId(IN_PROCESS_KEY)}"]
    servers: ["*"]
`;

/** The tool names of a tools/list answer, sorted. */
const names = (reply: RawReply): string[] => {
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  return (reply.body.result?.tools ?? []).map((t) => t.name).sort();
};

/** Asserts a call was refused by the policy, naming the grant that would allow it. */
function refused(reply: RawReply, principal: string, server: string, tool: string): void {
  assert.equal(reply.body.error?.code, ACCESS_DENIED, JSON.stringify(reply.body));
  assert.match(reply.body.error?.message ?? "", new RegExp(`^${principal} may not use tool "${tool}" of server "${server}": no grant .* servers: \\["${server}"\\], tools: \\["${tool}"\\] would\\)$`));
}

function served(reply: RawReply): void {
  assert.equal(reply.status, 200);
  assert.equal(reply.body.error, undefined, JSON.stringify(reply.body));
  assert.notEqual(reply.body.result?.isError, true, JSON.stringify(reply.body));
}

describe("the access policy, enforced", () => {
  let issuer: TestIssuer;
  let d: InProcessDaemon;
  let alice: string;
  let bob: string;

  before(async () => {
    issuer = await startTestIssuer([{ id: "alice", groups: ["eng"] }, { id: "bob" }]);
    d = await startInProcessDaemon({ http: { oauth: { issuer: issuer.issuer } }, access: POLICY });
    const base = d.url.href.replace(/\/$/, "");
    alice = await issuer.token("alice", `${base}/mcp`);
    bob = await issuer.token("bob", `${base}/mcp`);
  });
  after(async () => {
    await d.close();
    await issuer.close();
  });

  describe("2026-07-28 requests", () => {
    it("list exactly each principal's tools on /mcp (lists marked private)", async () => {
      const mine = await modernRequest(d.url, "/mcp", alice, "tools/list");
      assert.deepEqual(names(mine), PROBE_TOOLS.map((t) => `percall__${t}`));
      assert.equal(mine.body.result?.cacheScope, "private");
      assert.deepEqual(names(await modernRequest(d.url, "/mcp", bob, "tools/list")), ["persession__whoami"]);
      assert.ok(names(await modernRequest(d.url, "/mcp", d.key, "tools/list")).includes("slow__whoami"), "the key granted every server sees them all");
    });

    it("serve granted calls and refuse the others, naming the missing grant, on /mcp", async () => {
      served(await modernRequest(d.url, "/mcp", alice, "tools/call", { name: "percall__whoami", arguments: {} }));
      refused(await modernRequest(d.url, "/mcp", alice, "tools/call", { name: "persession__whoami", arguments: {} }), "oauth:alice", "persession", "whoami");
      served(await modernRequest(d.url, "/mcp", bob, "tools/call", { name: "persession__whoami", arguments: {} }));
      refused(await modernRequest(d.url, "/mcp", bob, "tools/call", { name: "persession__remember", arguments: { value: "x" } }), "oauth:bob", "persession", "remember");
      refused(await modernRequest(d.url, "/mcp", bob, "tools/call", { name: "percall__whoami", arguments: {} }), "oauth:bob", "percall", "whoami");
    });

    it("count refusals per principal in the metrics", async () => {
      const text = await (await fetch(new URL("/metrics", d.url), { headers: { authorization: `Bearer ${d.key}` } })).text();
      assert.match(text, /^mcp_router_principal_calls_total\{principal="oauth:bob",outcome="denied"\} 2$/m);
      assert.match(text, /^mcp_router_principal_calls_total\{principal="oauth:alice",outcome="denied"\} 1$/m);
      assert.match(text, /^mcp_router_principal_calls_total\{principal="oauth:alice",outcome="ok"\} 1$/m);
    });

    it("do the same on the per-server endpoints", async () => {
      assert.deepEqual(names(await modernRequest(d.url, "/servers/persession/mcp", alice, "tools/list")), []);
      refused(await modernRequest(d.url, "/servers/persession/mcp", alice, "tools/call", { name: "whoami", arguments: {} }), "oauth:alice", "persession", "whoami");
      assert.deepEqual(names(await modernRequest(d.url, "/servers/persession/mcp", bob, "tools/list")), ["whoami"]);
      served(await modernRequest(d.url, "/servers/persession/mcp", bob, "tools/call", { name: "whoami", arguments: {} }));
      refused(await modernRequest(d.url, "/servers/persession/mcp", bob, "tools/call", { name: "crash", arguments: {} }), "oauth:bob", "persession", "crash");
    });
  });

  describe("2025 sessions", () => {
    it("list and call exactly each principal's tools on /mcp and per-server endpoints", async () => {
      const a = await openSession(d.url, "/mcp", alice);
      const b = await openSession(d.url, "/mcp", bob);
      const bServer = await openSession(d.url, "/servers/persession/mcp", bob);
      const aServer = await openSession(d.url, "/servers/percall/mcp", alice);
      try {
        assert.deepEqual(names(await a.request("tools/list")), PROBE_TOOLS.map((t) => `percall__${t}`));
        assert.deepEqual(names(await b.request("tools/list")), ["persession__whoami"]);
        served(await a.request("tools/call", { name: "percall__whoami", arguments: {} }));
        refused(await a.request("tools/call", { name: "persession__whoami", arguments: {} }), "oauth:alice", "persession", "whoami");
        served(await b.request("tools/call", { name: "persession__whoami", arguments: {} }));
        refused(await b.request("tools/call", { name: "persession__crash", arguments: {} }), "oauth:bob", "persession", "crash");
        assert.deepEqual(names(await bServer.request("tools/list")), ["whoami"]);
        refused(await bServer.request("tools/call", { name: "remember", arguments: {} }), "oauth:bob", "persession", "remember");
        assert.deepEqual(names(await aServer.request("tools/list")), PROBE_TOOLS);
        served(await aServer.request("tools/call", { name: "remember", arguments: { value: "x" } }));
      } finally {
        await Promise.all([a, b, aServer, bServer].map((s) => s.close()));
      }
    });

    it("over legacy SSE too", async () => {
      const connect = async (token: string) => {
        const headers = { authorization: `Bearer ${token}` };
        const client = new Client({ name: "sse-access", version: "1.0.0" });
        await client.connect(
          new SSEClientTransport(new URL("/sse", d.url), {
            requestInit: { headers },
            eventSourceInit: { fetch: (url, init) => fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }) },
          }),
        );
        return client;
      };
      const [a, b] = await Promise.all([connect(alice), connect(bob)]);
      try {
        assert.deepEqual((await a.listTools()).tools.map((t) => t.name).sort(), PROBE_TOOLS.map((t) => `percall__${t}`));
        assert.deepEqual((await b.listTools()).tools.map((t) => t.name), ["persession__whoami"]);
        await assert.rejects(b.callTool({ name: "percall__whoami", arguments: {} }), (error: Error & { code?: number }) => error.code === ACCESS_DENIED && /oauth:bob may not use tool "whoami" of server "percall"/.test(error.message));
        assert.notEqual((await b.callTool({ name: "persession__whoami", arguments: {} })).isError, true);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  });

  describe("hot reload", () => {
    it("applies a new access.yaml with the registry (sessions told their lists changed), and keeps the last good one when the new one is broken", async () => {
      const client = new Client({ name: "list-changed", version: "1.0.0" });
      await client.connect(new StreamableHTTPClientTransport(new URL("/mcp", d.url), { requestInit: { headers: { authorization: `Bearer ${bob}` } } }));
      const changed = new Promise<void>((resolve) => client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
      await writeFile(join(d.registryDir, "access.yaml"), POLICY.replace('    tools: ["whoami"]\n', ""));
      await d.daemon.sync.reconciler.request("test: policy changed");
      await changed;
      assert.deepEqual((await client.listTools()).tools.map((t) => t.name).sort(), PROBE_TOOLS.map((t) => `persession__${t}`));
      await client.close();
      assert.deepEqual(names(await modernRequest(d.url, "/mcp", bob, "tools/list")), PROBE_TOOLS.map((t) => `persession__${t}`));
      assert.equal(d.daemon.status().access?.reason, "Applied");

      await writeFile(join(d.registryDir, "access.yaml"), `${POLICY}  - who: [everyone]\n    servers: ["*"]\n`);
      await d.daemon.sync.reconciler.request("test: policy broken");
      const status = d.daemon.status().access;
      assert.equal(status?.reason, "ValidationFailed");
      assert.equal(status?.stale, true);
      assert.match(status?.message ?? "", /access\.yaml:9:11 {2}grants\[3\]\.who\[0\]: must be `\*`/);
      assert.deepEqual(names(await modernRequest(d.url, "/mcp", bob, "tools/list")), PROBE_TOOLS.map((t) => `persession__${t}`), "the last good policy keeps serving");
    });
  });
});

describe("the access policy in hierarchical mode", () => {
  let issuer: TestIssuer;
  let d: InProcessDaemon;
  let bob: string;

  before(async () => {
    issuer = await startTestIssuer([{ id: "bob" }]);
    d = await startInProcessDaemon({ http: { oauth: { issuer: issuer.issuer } }, access: POLICY, hierarchical: true });
    bob = await issuer.token("bob", `${d.url.href.replace(/\/$/, "")}/mcp`);
  });
  after(async () => {
    await d.close();
    await issuer.close();
  });

  const text = (reply: RawReply): unknown => JSON.parse(reply.body.result?.content?.[0]?.text ?? "null");

  it("tells only of granted servers and tools, and refuses call_tool beyond them", async () => {
    const servers = text(await modernRequest(d.url, "/mcp", bob, "tools/call", { name: "list_servers", arguments: {} })) as { server: string; tools: number }[];
    assert.deepEqual(servers.map((s) => [s.server, s.tools]), [["persession", 1]]);
    const tools = text(await modernRequest(d.url, "/mcp", bob, "tools/call", { name: "list_tools", arguments: { server: "persession" } })) as { name: string }[];
    assert.deepEqual(tools.map((t) => t.name), ["whoami"]);
    const found = text(await modernRequest(d.url, "/mcp", bob, "tools/call", { name: "search_tools", arguments: { query: "remember whoami" } })) as { server: string; tool: string }[];
    assert.deepEqual(found.map((f) => `${f.server}/${f.tool}`), ["persession/whoami"]);
    served(await modernRequest(d.url, "/mcp", bob, "tools/call", { name: "call_tool", arguments: { server: "persession", tool: "whoami" } }));
    refused(await modernRequest(d.url, "/mcp", bob, "tools/call", { name: "call_tool", arguments: { server: "percall", tool: "whoami" } }), "oauth:bob", "percall", "whoami");
  });
});
