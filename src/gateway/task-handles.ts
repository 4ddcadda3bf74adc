/**
 * Tasks (the 2026-07-28 `io.modelcontextprotocol/tasks` extension) through the gateway. An upstream
 * that answers a `tools/call` with a task handle (`resultType: "task"`) owns that task's state; the
 * client gets a gateway handle in its place, sealed (HMAC) over the server's prefix, the upstream's
 * task id and the caller (its principal id: API key or OAuth subject), so `tasks/get`, `tasks/update` and `tasks/cancel` go to
 * the server that issued it, for that caller only. A handle carries no expiry of its own: the
 * upstream's `ttlMs` decides how long the task lives.
 *
 * Only an upstream whose state outlives the request may create tasks (a remote server, or a shared
 * instance): for any other, the extension is left out of the capabilities the gateway declares
 * upstream, so the upstream answers the call itself (a per-call container ends with its call).
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { CallToolResult, ClientCapabilities } from "@modelcontextprotocol/sdk/types.js";
import { CallToolResultSchema, ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { launcherKind } from "../launch/composite-launcher.js";
import type { ResultSchema, UpstreamTask } from "../launch/launcher.js";
import { isUpstreamTask } from "../launch/launcher.js";
import type { RegistryServer } from "../registry/types.js";
import { lifecycleOf } from "../registry/types.js";

export const TASKS_EXTENSION = "io.modelcontextprotocol/tasks";

/** The methods that act on an existing task, routed by its handle. */
export const TASK_METHODS = ["tasks/get", "tasks/update", "tasks/cancel"] as const;
export type TaskMethod = (typeof TASK_METHODS)[number];

/** What a 2026 caller's `tools/call` may get back: a tool result, or a task handle. */
export const CALL_TOOL_OR_TASK: ResultSchema<CallToolResult | UpstreamTask> = {
  parse: (value) => (isUpstreamTask(value) ? value : CallToolResultSchema.parse(value)),
};

/** A `tasks/*` answer: passed on as the upstream gave it (a task, or an empty acknowledgement). */
export const TASK_REPLY: ResultSchema<Record<string, unknown>> = {
  parse: (value) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new McpError(ErrorCode.InternalError, "the upstream's answer to a task request is not an object");
    return value as Record<string, unknown>;
  },
};

/** Whether the server's state outlives one request, so a task it creates can be followed later. */
export function keepsTasks(server: RegistryServer): boolean {
  const kind = launcherKind(server);
  return kind === "remote" || (kind === "docker" && lifecycleOf(server) === "shared");
}

/** The caller's capabilities as declared upstream: without the tasks extension when the server cannot keep a task. */
export function upstreamCapabilities(server: RegistryServer, capabilities: ClientCapabilities | undefined): ClientCapabilities | undefined {
  const extensions = (capabilities as { extensions?: Record<string, unknown> } | undefined)?.extensions;
  if (!extensions || !(TASKS_EXTENSION in extensions) || keepsTasks(server)) return capabilities;
  const { [TASKS_EXTENSION]: _dropped, ...rest } = extensions;
  return { ...capabilities, extensions: rest } as ClientCapabilities;
}

/** The file in the data dir that keeps the key task handles are sealed with (so they outlive a restart). */
export const TASK_KEY_FILE = "task-handles.key";

/** The data dir's task-handle key, made (readable by its owner only) on first use. */
export async function loadTaskKey(dataDir: string): Promise<Buffer> {
  const file = join(dataDir, TASK_KEY_FILE);
  try {
    const key = await readFile(file);
    if (key.length === 32) return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const key = randomBytes(32);
  await writeFile(file, key, { mode: 0o600 });
  return key;
}

interface Claims {
  /** The server's prefix. */
  s: string;
  /** The upstream's task id. */
  t: string;
  /** The caller (API key id). */
  k: string;
}

export class TaskHandles {
  readonly #key: Buffer;

  /** `key`: a stable key keeps handles valid across restarts (the daemon keeps one in its data dir). */
  constructor(key: Buffer = randomBytes(32)) {
    this.#key = key;
  }

  /** The handle the client gets for an upstream's task. */
  issue(prefix: string, taskId: string, principal: string): string {
    const payload = Buffer.from(JSON.stringify({ s: prefix, t: taskId, k: principal } satisfies Claims)).toString("base64url");
    return `${payload}.${this.#mac(payload)}`;
  }

  /** The server and upstream task a handle names; refused when it is not ours, altered, or another caller's. */
  open(handle: unknown, principal: string): { prefix: string; taskId: string } {
    const refuse = (why: string): never => {
      throw new McpError(ErrorCode.InvalidParams, `unknown task: ${why}; use the taskId the tool call returned, with the same API key`);
    };
    if (typeof handle !== "string") return refuse("taskId must be a string");
    const [payload, mac] = handle.split(".");
    if (!payload || !mac) return refuse("it is not a task id the gateway issued");
    const expected = Buffer.from(this.#mac(payload));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return refuse("it was altered or is not a task id the gateway issued");
    let claims: Claims;
    try {
      claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Claims;
    } catch {
      return refuse("it is not a task id the gateway issued");
    }
    if (claims.k !== principal) return refuse("it belongs to another caller");
    return { prefix: claims.s, taskId: claims.t };
  }

  #mac(payload: string): string {
    return createHmac("sha256", this.#key).update(payload).digest("base64url");
  }
}
