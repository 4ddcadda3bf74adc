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

/** The same call tests over every transport: `get` returns the connected client of the suite. */
export function defineCallTests(kind: string, get: () => TestClient, owner: string): void {
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

      it("passes progress of a long-running tool through", async () => {
        const progress: number[] = [];
        const result = await get().client.callTool({ name: "everything__trigger-long-running-operation", arguments: { duration: 1, steps: 3 } }, CallToolResultSchema, {
          onprogress: (p) => progress.push(p.progress),
        });
        assert.match(text(result), /Long running operation completed/);
        assert.deepEqual(progress, [1, 2, 3]);
      });

      it("forwards sampling to this client and completes the tool with its answer", async () => {
        const before = get().sampling;
        const result = await get().client.callTool({ name: "everything__trigger-sampling-request", arguments: { prompt: "say hi" } });
        assert.equal(get().sampling, before + 1);
        assert.match(JSON.stringify(result), new RegExp(SAMPLED_TEXT));
      });

      it("forwards elicitation to this client and completes the tool with its answer", async () => {
        const result = await get().client.callTool({ name: "everything__trigger-elicitation-request", arguments: {} });
        assert.ok(get().elicitation >= 1);
        assert.match(text(result), /Ada Lovelace/);
      });

      it("passes logging messages through", async () => {
        get().logs.length = 0;
        await get().client.callTool({ name: "everything__toggle-simulated-logging", arguments: {} });
        await waitFor("a logging message", () => get().logs.length > 0 || undefined, 5_000);
        assert.match(JSON.stringify(get().logs[0]), /message/);
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

      it("routes resources (list, templates, read) with namespaced URIs", async () => {
        const { resources } = await get().client.listResources();
        const first = resources[0];
        assert.ok(first, "server-everything lists resources");
        assert.ok(resources.every((r) => /^(everything|memory)\+/.test(r.uri)), `URIs are namespaced: ${resources.map((r) => r.uri).join(", ")}`);
        const read = await get().client.readResource({ uri: first.uri });
        assert.equal(read.contents[0]?.uri, first.uri);
        const { resourceTemplates } = await get().client.listResourceTemplates();
        const textTemplate = resourceTemplates.find((t) => /dynamic\/text/.test(t.uriTemplate));
        assert.ok(textTemplate, JSON.stringify(resourceTemplates));
        const dyn = await get().client.readResource({ uri: textTemplate.uriTemplate.replace(/\{[^}]+\}/, "1") });
        assert.ok(dyn.contents.length > 0);
      });

      it("routes prompts (list, get) and completion", async () => {
        const { prompts } = await get().client.listPrompts();
        assert.ok(prompts.some((p) => p.name === "everything__simple-prompt"), prompts.map((p) => p.name).join(","));
        const got = await get().client.getPrompt({ name: "everything__simple-prompt" });
        assert.ok(got.messages.length > 0);
        const completion = await get().client.complete({ ref: { type: "ref/prompt", name: "everything__completable-prompt" }, argument: { name: "department", value: "En" } });
        assert.deepEqual(completion.completion.values, ["Engineering"]);
      });

      it("unknown tools are MCP errors, not hangs", async () => {
        await assert.rejects(get().client.callTool({ name: "nope__nothing", arguments: {} }), /unknown tool/);
      });
}
