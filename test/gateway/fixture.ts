/** Shared by the gateway tests: the two real servers, MCP clients that answer sampling and elicitation, container polling. */
import assert from "node:assert/strict";
import { it } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { CallToolResult, LoggingMessageNotification } from "@modelcontextprotocol/sdk/types.js";
import { CallToolResultSchema, CreateMessageRequestSchema, ElicitRequestSchema, LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import type { RegistryServer } from "../../src/registry/types.js";
import { listOurContainers } from "../support/docker.js";
import { npmPackage, testServer } from "../support/servers.js";

export function testServers(): { everything: RegistryServer; memory: RegistryServer } {
  return {
    everything: testServer("everything", npmPackage("@modelcontextprotocol/server-everything")),
    memory: testServer("memory", npmPackage("@modelcontextprotocol/server-memory", { environmentVariables: [{ name: "MEMORY_FILE_PATH", value: "/tmp/memory.jsonl" }] })),
  };
}

export const SAMPLED_TEXT = "sampled by the test client";

export interface TestClient {
  client: Client;
  logs: LoggingMessageNotification["params"][];
  sampling: number;
  elicitation: number;
}

/** A real SDK client with sampling and elicitation answered by the test. */
export async function connectClient(transport: Transport): Promise<TestClient> {
  const client = new Client({ name: "gateway-test", version: "1.0.0" }, { capabilities: { sampling: {}, elicitation: {} } });
  const state: TestClient = { client, logs: [], sampling: 0, elicitation: 0 };
  client.setRequestHandler(CreateMessageRequestSchema, async () => {
    state.sampling += 1;
    return { role: "assistant", content: { type: "text", text: SAMPLED_TEXT }, model: "test-model", stopReason: "endTurn" };
  });
  client.setRequestHandler(ElicitRequestSchema, async () => {
    state.elicitation += 1;
    return { action: "accept", content: { name: "Ada Lovelace", check: true } };
  });
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    state.logs.push(n.params);
  });
  await client.connect(transport);
  return state;
}

export function text(result: unknown): string {
  const r = result as CallToolResult;
  return r.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeout = 15_000): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Container ids of ours (this owner) now. */
export async function containers(owner: string): Promise<string[]> {
  return (await listOurContainers(owner)).map((c) => c.Id);
}

/**
 * What only real containers show, over every transport (`get` returns the connected client of the
 * suite): server-memory's state does not survive a per-call container, and cancelling a call kills
 * its container. The protocol behaviour of calls is tested without Docker in gateway-behaviour.test.ts.
 */
export function defineContainerCallTests(kind: string, get: () => TestClient, owner: string): void {
  it("lists and calls namespaced tools of server-everything and server-memory", async () => {
    const { tools } = await get().client.listTools();
    const names = tools.map((t) => t.name);
    assert.ok(names.includes("everything__echo"), names.join(","));
    assert.ok(names.includes("memory__create_entities"), names.join(","));
    assert.ok(names.every((n) => /^[A-Za-z0-9_.-]{1,128}$/.test(n)));
    assert.equal(text(await get().client.callTool({ name: "everything__echo", arguments: { message: `via ${kind}` } })), `Echo: via ${kind}`);
    const created = await get().client.callTool({ name: "memory__create_entities", arguments: { entities: [{ name: "ada", entityType: "person", observations: ["x"] }] } });
    assert.match(text(created), /ada/);
    const graph = await get().client.callTool({ name: "memory__read_graph", arguments: {} });
    assert.doesNotMatch(text(graph), /ada/, "per-call: a fresh container per call");
  });

  it("cancelling a call kills its container", async () => {
    await waitFor("no container of ours", async () => ((await containers(owner)).length === 0 ? true : undefined));
    const controller = new AbortController();
    const call = get().client.callTool({ name: "everything__trigger-long-running-operation", arguments: { duration: 60, steps: 60 } }, CallToolResultSchema, { signal: controller.signal });
    const outcome = call.then(() => "resolved", () => "rejected");
    await waitFor("the call's container", async () => ((await containers(owner)).length === 1 ? true : undefined));
    controller.abort("test cancels");
    assert.equal(await outcome, "rejected");
    await waitFor("the container to be removed", async () => ((await containers(owner)).length === 0 ? true : undefined), 10_000);
  });
}
