/**
 * Upstreams for the InProcessLauncher: server-everything's real server (the same code its npm
 * package runs, linked against this repo's SDK copy), and `probe`, a small SDK server of ours for
 * what server-everything cannot show (state kept per instance, a call that waits for its
 * cancellation, an upstream that goes away during a call).
 */
import { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError } from "@modelcontextprotocol/sdk/types.js";
import type { Package } from "../../src/registry/types.js";
import type { ConnectedUpstream, UpstreamFactory } from "./in-process-launcher.js";

const require = createRequire(import.meta.url);

export const EVERYTHING_PACKAGE = "@modelcontextprotocol/server-everything";
export const PROBE_PACKAGE = "@mcp-router-test/probe";

interface EverythingModule {
  createServer(): { server: ConnectedUpstream["server"]; cleanup(sessionId?: string): void };
}

/** server-everything's `createServer` (its package has no `exports`, so the file is imported by path). */
export async function everythingUpstream(): Promise<UpstreamFactory> {
  const root = dirname(require.resolve(`${EVERYTHING_PACKAGE}/package.json`));
  // One SDK copy: server-everything must resolve the same @modelcontextprotocol/sdk as this repo,
  // or its server and our client would speak through two copies of the protocol classes.
  const theirs = createRequire(join(root, "package.json")).resolve("@modelcontextprotocol/sdk/package.json");
  const ours = require.resolve("@modelcontextprotocol/sdk/package.json");
  if (theirs !== ours) throw new Error(`server-everything links another SDK copy (${theirs}, ours ${ours}): run npm dedupe`);
  const module = (await import(join(root, "dist", "server", "index.js"))) as EverythingModule;
  return () => {
    const { server, cleanup } = module.createServer();
    return { server, cleanup: (sessionId) => cleanup(sessionId) };
  };
}

export interface ProbeEvents {
  /** A `wait-for-cancel` call reached the upstream (`instance` is the upstream's serial number). */
  waiting: [{ instance: number }];
  /** The upstream saw that call's signal abort (the gateway passed the cancellation on). */
  cancelled: [{ instance: number; reason: unknown }];
  /** Every tools/call, with the `_meta` the upstream received. */
  called: [{ instance: number; tool: string; meta: Record<string, unknown> | undefined }];
}

const PROBE_TOOLS = [
  {
    name: "remember",
    description: "Adds a note to this instance's memory and returns every note it holds",
    inputSchema: { type: "object" as const, properties: { note: { type: "string" } }, required: ["note"] },
  },
  { name: "whoami", description: "The serial number of the upstream instance that answers", inputSchema: { type: "object" as const } },
  { name: "wait-for-cancel", description: "Waits until the call is cancelled", inputSchema: { type: "object" as const } },
  { name: "crash", description: "Closes the server's transport in the middle of the call", inputSchema: { type: "object" as const } },
];

/** `probe`: a fresh Server per instance, numbered from 1; `events` tells what its calls saw. */
export function probeUpstream(events: EventEmitter<ProbeEvents> = new EventEmitter()): UpstreamFactory {
  let serial = 0;
  return () => {
    const instance = ++serial;
    const notes: string[] = [];
    const server = new Server({ name: "probe", version: "1.0.0" }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: PROBE_TOOLS }));
    server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
      const reply = (text: string): CallToolResult => ({ content: [{ type: "text", text }] });
      events.emit("called", { instance, tool: request.params.name, meta: request.params._meta as Record<string, unknown> | undefined });
      switch (request.params.name) {
        case "remember":
          notes.push(String(request.params.arguments?.note));
          return reply(`notes: ${notes.join(", ")}`);
        case "whoami":
          return reply(`instance ${instance}`);
        case "wait-for-cancel":
          return new Promise<never>((_, reject) => {
            const onAbort = (): void => {
              events.emit("cancelled", { instance, reason: extra.signal.reason });
              reject(new McpError(ErrorCode.RequestTimeout, "cancelled"));
            };
            if (extra.signal.aborted) onAbort();
            else extra.signal.addEventListener("abort", onAbort, { once: true });
            events.emit("waiting", { instance });
          });
        case "crash":
          await server.close();
          return new Promise<never>(() => undefined);
        default:
          throw new McpError(ErrorCode.InvalidParams, `unknown tool ${request.params.name}`);
      }
    });
    return { server };
  };
}

/** The registry package of the probe server (an npm-shaped package the InProcessLauncher runs in process). */
export function probePackage(): Package {
  return { registryType: "npm", identifier: PROBE_PACKAGE, version: "1.0.0", transport: { type: "stdio" } };
}

export const PARAM_HEADERS_PACKAGE = "@mcp-router-test/param-headers";

/**
 * `param-headers`: a tool whose inputSchema mirrors parameters into `Mcp-Param-*` headers
 * (`x-mcp-header`, 2026-07-28): a string, an integer, a boolean and a nested string; and `echo`,
 * which declares none. Both answer with the arguments they received, as JSON text.
 */
export function paramHeadersUpstream(): UpstreamFactory {
  const tools = [
    {
      name: "deploy",
      description: "Echoes its arguments; region, replicas, dryRun and target.zone travel as Mcp-Param-* headers too",
      inputSchema: {
        type: "object" as const,
        properties: {
          region: { type: "string", "x-mcp-header": "Region" },
          replicas: { type: "integer", "x-mcp-header": "Replicas" },
          dryRun: { type: "boolean", "x-mcp-header": "Dry-Run" },
          target: { type: "object", properties: { zone: { type: "string", "x-mcp-header": "Zone" } } },
          note: { type: "string" },
        },
      },
    },
    { name: "echo", description: "Echoes its arguments", inputSchema: { type: "object" as const, properties: { text: { type: "string" } } } },
  ];
  return () => {
    const server = new Server({ name: "param-headers", version: "1.0.0" }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));
    server.setRequestHandler(CallToolRequestSchema, async (request): Promise<CallToolResult> => ({ content: [{ type: "text", text: JSON.stringify(request.params.arguments ?? {}) }] }));
    return { server };
  };
}

/** The registry package of the param-headers server. */
export function paramHeadersPackage(): Package {
  return { registryType: "npm", identifier: PARAM_HEADERS_PACKAGE, version: "1.0.0", transport: { type: "stdio" } };
}
