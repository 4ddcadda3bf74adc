/**
 * The SDK v2 client's own OAuth flow against the gateway and a real OpenID provider started in the
 * test: its first request gets the 401, it reads the Protected Resource Metadata named there, finds
 * the provider's metadata, gets a token for the endpoint's URL (the RFC 8707 resource) with the
 * client credentials grant, and calls, in both protocol eras, on /mcp and on a per-server endpoint.
 * (The authorization code flow with PKCE needs a sign-in page: the built-in authorization server
 * of issue 17, not built yet.)
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Client, ClientCredentialsProvider, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { ACCESS_DENIED } from "../../src/gateway/access-view.js";
import type { InProcessDaemon } from "../support/in-process-daemon.js";
import { startInProcessDaemon } from "../support/in-process-daemon.js";
import type { TestIssuer } from "../support/oidc-issuer.js";
import { CLIENT_SECRET, startTestIssuer } from "../support/oidc-issuer.js";

describe("the SDK v2 client's OAuth flow, discovered from the gateway's 401", () => {
  let issuer: TestIssuer;
  let d: InProcessDaemon;

  before(async () => {
    issuer = await startTestIssuer([{ id: "alice", groups: ["eng"] }, { id: "bob" }]);
    d = await startInProcessDaemon({
      http: { oauth: { issuer: issuer.issuer, requiredScopes: ["mcp"] } },
      access: `grants:\n  - who: ["group:eng"]\n    servers: ["percall"]\n  - who: ["subject:bob"]\n    servers: ["persession"]\n`,
    });
  });
  after(async () => {
    await d.close();
    await issuer.close();
  });

  const connect = async (clientId: string, path: string, era: "2026" | "2025"): Promise<Client> => {
    const authProvider = new ClientCredentialsProvider({ clientId, clientSecret: CLIENT_SECRET, expectedIssuer: issuer.issuer, scope: "mcp" });
    const client = new Client({ name: "oauth-flow", version: "1.0.0" }, era === "2026" ? { versionNegotiation: { mode: { pin: "2026-07-28" } } } : {});
    await client.connect(new StreamableHTTPClientTransport(new URL(path, d.url), { authProvider }));
    return client;
  };

  for (const era of ["2026", "2025"] as const) {
    it(`signs in and calls as the token's subject (${era} era, /mcp)`, async () => {
      const alice = await connect("alice", "/mcp", era);
      const bob = await connect("bob", "/mcp", era);
      try {
        assert.deepEqual((await alice.listTools()).tools.map((t) => t.name).sort(), ["percall__crash", "percall__remember", "percall__wait-for-cancel", "percall__whoami"]);
        assert.notEqual((await alice.callTool({ name: "percall__whoami", arguments: {} })).isError, true);
        assert.ok((await bob.listTools()).tools.every((t) => t.name.startsWith("persession__")));
        await assert.rejects(bob.callTool({ name: "percall__whoami", arguments: {} }), (error: Error & { code?: number }) => error.code === ACCESS_DENIED);
      } finally {
        await Promise.all([alice.close(), bob.close()]);
      }
    });
  }

  it("gets a token for a per-server endpoint's own URL, and uses it there", async () => {
    const bob = await connect("bob", "/servers/persession/mcp", "2026");
    try {
      assert.deepEqual((await bob.listTools()).tools.map((t) => t.name).sort(), ["crash", "remember", "wait-for-cancel", "whoami"]);
      assert.notEqual((await bob.callTool({ name: "whoami", arguments: {} })).isError, true);
    } finally {
      await bob.close();
    }
  });
});
