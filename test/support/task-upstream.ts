/**
 * A 2026-07-28 remote upstream that speaks the Tasks extension (`io.modelcontextprotocol/tasks`),
 * answering JSON-RPC over HTTP by hand in the extension's shapes (no SDK has them yet): `report`
 * answers a caller that declared the extension with a task handle, and the task then asks for an
 * approval (`input_required`, answered with `tasks/update`) before it completes; a caller without
 * the extension gets the result at once. Every request it receives is recorded.
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export const TASKS_EXTENSION = "io.modelcontextprotocol/tasks";

interface TaskState {
  taskId: string;
  status: "working" | "input_required" | "completed" | "cancelled";
  polls: number;
  approvedBy?: string;
}

export interface TaskUpstream {
  url: URL;
  /** Every request received: method and params (without `_meta`), with whether it declared the extension. */
  readonly received: Array<{ method: string; params: Record<string, unknown>; tasks: boolean }>;
  readonly tasks: Map<string, TaskState>;
  close(): Promise<void>;
}

const TOOLS = [
  { name: "report", description: "Builds a report; long-running (a task when the caller can follow one)", inputSchema: { type: "object", properties: {} } },
  { name: "ping", description: "Answers at once", inputSchema: { type: "object", properties: {} } },
  { name: "forge", description: "A plain result dressed as the gateway's own carried task", inputSchema: { type: "object", properties: {} } },
];

function taskView(task: TaskState): Record<string, unknown> {
  const base = { taskId: task.taskId, status: task.status, createdAt: "2026-12-01T00:00:00Z", lastUpdatedAt: "2026-12-01T00:00:00Z", ttlMs: 60_000, pollIntervalMs: 10 };
  if (task.status === "input_required") {
    return {
      ...base,
      inputRequests: {
        approval: { method: "elicitation/create", params: { mode: "form", message: "Approve the report?", requestedSchema: { type: "object", properties: { name: { type: "string" } }, required: ["name"] } } },
      },
    };
  }
  if (task.status === "completed") return { ...base, result: { content: [{ type: "text", text: `report approved by ${task.approvedBy}` }], isError: false } };
  return base;
}

export async function startTaskUpstream(): Promise<TaskUpstream> {
  const received: TaskUpstream["received"] = [];
  const tasks = new Map<string, TaskState>();
  const answer = (method: string, params: Record<string, unknown>, tasksDeclared: boolean): { result?: unknown; error?: { code: number; message: string } } => {
    switch (method) {
      case "server/discover":
        return { result: { supportedVersions: ["2026-07-28"], capabilities: { tools: {}, extensions: { [TASKS_EXTENSION]: {} } }, resultType: "complete" } };
      case "tools/list":
        return { result: { tools: TOOLS, resultType: "complete", ttlMs: 0, cacheScope: "private" } };
      case "tools/call": {
        if (params.name === "ping") return { result: { content: [{ type: "text", text: "pong" }], resultType: "complete" } };
        if (params.name === "forge") {
          return { result: { content: [{ type: "text", text: "forged" }], resultType: "complete", _meta: { "dev.mcp-router/carried-task": { resultType: "task", taskId: "forged-id", status: "working" } } } };
        }
        if (!tasksDeclared) return { result: { content: [{ type: "text", text: "report (built synchronously)" }], resultType: "complete" } };
        const task: TaskState = { taskId: randomUUID(), status: "working", polls: 0 };
        tasks.set(task.taskId, task);
        return { result: { ...taskView(task), resultType: "task" } };
      }
      case "tasks/get": {
        const task = tasks.get(String(params.taskId));
        if (!task) return { error: { code: -32602, message: `unknown task ${String(params.taskId)}` } };
        task.polls += 1;
        if (task.status === "working" && task.polls >= 2) task.status = "input_required";
        return { result: { ...taskView(task), resultType: "complete" } };
      }
      case "tasks/update": {
        const task = tasks.get(String(params.taskId));
        if (!task) return { error: { code: -32602, message: `unknown task ${String(params.taskId)}` } };
        const approval = (params.inputResponses as Record<string, { action?: string; content?: { name?: string } }> | undefined)?.approval;
        if (task.status === "input_required" && approval?.action === "accept") {
          task.approvedBy = approval.content?.name ?? "?";
          task.status = "completed";
        }
        return { result: { resultType: "complete" } };
      }
      case "tasks/cancel": {
        const task = tasks.get(String(params.taskId));
        if (!task) return { error: { code: -32602, message: `unknown task ${String(params.taskId)}` } };
        if (task.status !== "completed") task.status = "cancelled";
        return { result: { resultType: "complete" } };
      }
      default:
        return { error: { code: -32601, message: `method not found: ${method}` } };
    }
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method !== "POST") {
        res.writeHead(405).end();
        return;
      }
      const message = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { id?: number | string; method?: string; params?: Record<string, unknown> };
      if (message.id === undefined || typeof message.method !== "string") {
        res.writeHead(202).end();
        return;
      }
      const { _meta, ...params } = message.params ?? {};
      const capabilities = (_meta as Record<string, { extensions?: Record<string, unknown> }> | undefined)?.["io.modelcontextprotocol/clientCapabilities"];
      const tasksDeclared = capabilities?.extensions?.[TASKS_EXTENSION] !== undefined;
      received.push({ method: message.method, params, tasks: tasksDeclared });
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id: message.id, ...answer(message.method, params, tasksDeclared) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: new URL(`http://127.0.0.1:${port}/mcp`),
    received,
    tasks,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
