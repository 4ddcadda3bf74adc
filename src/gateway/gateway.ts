/**
 * The gateway: one MCP server (SDK low-level `Server`) per client session, answering lists from
 * the routing table and forwarding each call to the server that owns it (see upstream-call.ts).
 * Transports (Streamable HTTP, SSE, stdio) only connect sessions; they live in other files.
 */
import { randomUUID } from "node:crypto";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { UriTemplate } from "@modelcontextprotocol/sdk/shared/uriTemplate.js";
import type {
  CallToolRequest,
  CallToolResult,
  ClientCapabilities,
  CompleteRequest,
  CompleteResult,
  GetPromptRequest,
  GetPromptResult,
  ListPromptsResult,
  ListResourcesResult,
  ListResourceTemplatesResult,
  ListToolsResult,
  LoggingLevel,
  Prompt,
  ReadResourceRequest,
  ReadResourceResult,
  Resource,
  ResourceTemplate,
  Tool,
} from "@modelcontextprotocol/sdk/types.js";
import {
  CallToolRequestSchema,
  CallToolResultSchema,
  CompleteRequestSchema,
  CompleteResultSchema,
  ErrorCode,
  GetPromptRequestSchema,
  GetPromptResultSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  ReadResourceResultSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import type { Logger } from "pino";
import type { Launcher, UpstreamInputRequired } from "../launch/launcher.js";
import { isUpstreamInputRequired, isUpstreamTask } from "../launch/launcher.js";
import type { RegistryServer } from "../registry/types.js";
import type { Principal } from "../auth/principal.js";
import { ANONYMOUS_PRINCIPAL, LOCAL_PRINCIPAL } from "../auth/principal.js";
import type { AccessKind } from "../auth/access-policy.js";
import { AccessPolicy } from "../auth/access-policy.js";
import { RateLimiter } from "../auth/rate-limiter.js";
import { aggregateOrigins, rateLimited, requireAccess, visible } from "./access-view.js";
import type { AuditLog } from "../observe/audit-log.js";
import { CallObserver, clientError } from "./call-observer.js";
import { InputRounds } from "./input-rounds.js";
import type { TaskMethod } from "./task-handles.js";
import { CALL_TOOL_OR_TASK, TASK_REPLY, TaskHandles } from "./task-handles.js";
import { CallerSubscriptions } from "./resource-subscriptions.js";
import { META_TOOLS, metaToolResult, parseCallTool, serverRoutes } from "./hierarchical-tools.js";
import type { GatewayMetrics } from "../observe/metrics.js";
import type { CallTracer } from "../observe/tracing.js";
import type { RoutingTable, ServerRoutes } from "./routing-table.js";
import { namespacedUri, splitUri } from "./routing-table.js";
import type { TableHolder } from "./table-holder.js";
import type { Scrub } from "../secrets/secret-scrubber.js";
import type { HandlerExtra } from "./upstream-call.js";
import { upstreamCall } from "./upstream-call.js";
import { IMPLEMENTATION } from "../version.js";

export interface GatewayOptions {
  holder: TableHolder;
  launcher: Launcher;
  logger: Logger;
  /** Expose list_servers / list_tools / search_tools / call_tool instead of every tool. */
  hierarchical?: boolean;
  serverInfo?: { name: string; version: string };
  /** Call counters and latency histograms (see metrics.ts). */
  metrics?: GatewayMetrics;
  /** One line per tools/call, resources/read and prompts/get. */
  audit?: AuditLog;
  /** A span per upstream request, when tracing is on (see observe/tracing.ts). */
  tracer?: CallTracer;
  /** Applied to error messages sent to clients and to the text of tool error results (secret values -> `***`). */
  scrub?: Scrub;
  /** The registry revision a server version was applied from; default `sha256:<prefix of its hash>`. */
  revisionOf?: (server: RegistryServer) => string | undefined;
  /** The key task handles are sealed with; a stable one keeps them valid across restarts (default: one per process). */
  taskKey?: Buffer;
}

/** What a session sees: everything (namespaced), or one server under its original names. */
export type SessionScope = { kind: "all" } | { kind: "server"; prefix: string };

export interface SessionOptions {
  /** Launcher session id (per-session containers); default a fresh UUID. */
  sessionId?: string;
  scope?: SessionScope;
  /** For logs: `streamable-http`, `sse`, `stdio`. */
  transport: string;
  /** Who opened the session (the HTTP edge decides); default the local operator on stdio, else anonymous. */
  principal?: Principal;
}

export interface GatewaySession {
  readonly id: string;
  readonly server: Server;
  /** Unsubscribes from table swaps and ends the session's per-session containers. */
  close(): Promise<void>;
}

/** A stateless (2026-07-28) request: who asks and what it declared, from its `_meta`. */
export interface StatelessRequestOptions {
  scope?: SessionScope;
  transport: string;
  /** Who sent the request; default anonymous (auth off). */
  principal?: Principal;
  clientCapabilities?: ClientCapabilities;
  logLevel?: LoggingLevel;
}

/** Who a scope's handlers act for: a 2025 session, or one stateless request. */
interface CallerIdentity {
  /** Launcher session id: per-session containers live as long as it. */
  sessionId: string;
  principal: Principal;
  logger: Logger;
  clientCapabilities(): ClientCapabilities | undefined;
  logLevel(): LoggingLevel | undefined;
  /** `return` for a 2026 caller: a modern upstream's `input_required` comes back to it as it is. */
  inputRequired: "fulfil" | "return";
}

/**
 * The requests a scope answers, whatever the era of the client that sent them. For a 2026 caller,
 * a call to a modern upstream may answer `input_required` (the upstream's own), and its retry's
 * params carry `inputResponses` and the upstream's `requestState` on to it.
 */
export interface ScopeHandlers {
  listTools(): ListToolsResult;
  callTool(params: CallToolRequest["params"], extra: HandlerExtra): Promise<CallToolResult | Record<string, unknown> | UpstreamInputRequired>;
  listResources(): ListResourcesResult;
  listResourceTemplates(): ListResourceTemplatesResult;
  readResource(params: ReadResourceRequest["params"], extra: HandlerExtra): Promise<ReadResourceResult | UpstreamInputRequired>;
  listPrompts(): ListPromptsResult;
  getPrompt(params: GetPromptRequest["params"], extra: HandlerExtra): Promise<GetPromptResult | UpstreamInputRequired>;
  complete(params: CompleteRequest["params"], extra: HandlerExtra): Promise<CompleteResult>;
  /** `tasks/get`, `tasks/update`, `tasks/cancel` (2026-07-28 Tasks extension): sent to the server that issued the handle. */
  task(method: TaskMethod, params: Record<string, unknown>, extra: HandlerExtra): Promise<Record<string, unknown>>;
}

/** What the gateway offers every client: it passes each through to the servers that have it. */
export const GATEWAY_CAPABILITIES = {
  tools: { listChanged: true },
  resources: { listChanged: true, subscribe: true },
  prompts: { listChanged: true },
  logging: {},
  completions: {},
} as const;

/** A 2025 session's result: its upstream calls fulfil every question, so no `input_required` reaches here. */
function completed<T>(result: T | UpstreamInputRequired): T {
  if (isUpstreamInputRequired(result)) throw new McpError(ErrorCode.InternalError, "an upstream asked for input in a way a 2025 session cannot carry");
  return result;
}

function instructionsFor(scope: SessionScope, hierarchical: boolean): string {
  if (scope.kind === "server") return `Tools of the ${scope.prefix} server, served by mcp-router.`;
  return hierarchical
    ? "mcp-router gateway: call list_servers, then list_tools or search_tools, then call_tool."
    : "mcp-router gateway: tools are named <server>__<tool>; resource URIs are prefixed with <server>+.";
}

/** A view of the table for one scope: what is listed, and how names and URIs map back. */
interface ScopeView {
  tools(): readonly Tool[];
  resources(): readonly Resource[];
  templates(): readonly ResourceTemplate[];
  prompts(): readonly Prompt[];
  signature(): string;
}

const listResults = new WeakMap<readonly Tool[], ListToolsResult>();

/**
 * One frozen `tools/list` result per (immutable) tool list of a table, so answering it costs no
 * copy, and the HTTP transport serializes it once, not on every request.
 */
function listToolsResult(tools: readonly Tool[]): ListToolsResult {
  let result = listResults.get(tools);
  if (!result) {
    result = Object.freeze({ tools: tools as Tool[] });
    listResults.set(tools, result);
  }
  return result;
}

function viewOf(table: RoutingTable, scope: SessionScope, hierarchical: boolean): ScopeView {
  if (scope.kind === "server") {
    const routes = table.servers.get(scope.prefix);
    return {
      tools: () => routes?.tools ?? [],
      resources: () => routes?.resources ?? [],
      templates: () => routes?.resourceTemplates ?? [],
      prompts: () => routes?.prompts ?? [],
      signature: () => (routes ? `${routes.server.hash}:${routes.ready}:${routes.tools.map((t) => t.name).join(",")}` : "none"),
    };
  }
  return {
    tools: () => (hierarchical ? META_TOOLS : table.toolList),
    resources: () => table.resourceList,
    templates: () => table.templateList,
    prompts: () => table.promptList,
    signature: () => [...table.servers.values()].map((r) => `${r.server.hash}:${r.ready}:${r.tools.length}`).join("|"),
  };
}

export class Gateway {
  readonly holder: TableHolder;
  private readonly launcher: Launcher;
  private readonly logger: Logger;
  private readonly hierarchical: boolean;
  private readonly sessions = new Set<GatewaySession>();
  /** 2026 clients' calls paused on a question from their upstream (sampling, elicitation). */
  readonly rounds = new InputRounds();
  readonly tasks: TaskHandles;
  /** Who may use what (the registry's access.yaml); replaced whole, like the table. */
  #access: AccessPolicy = AccessPolicy.OPEN;
  /** The policy's rate limits: buckets per principal, kept across sessions, reconnects and reloads. */
  readonly #limiter = new RateLimiter();

  constructor(private readonly options: GatewayOptions) {
    this.holder = options.holder;
    this.launcher = options.launcher;
    this.logger = options.logger;
    this.tasks = new TaskHandles(options.taskKey);
    this.hierarchical = options.hierarchical ?? false;
  }

  /** The revision a server version came from, for logs and the audit log. */
  revisionOf(server: RegistryServer): string {
    return this.options.revisionOf?.(server) ?? `sha256:${server.hash.slice(0, 12)}`;
  }

  get access(): AccessPolicy {
    return this.#access;
  }

  /** Swaps in a new access policy; lists change with it, so call it before the table swap that announces them. */
  setAccess(policy: AccessPolicy): void {
    this.#access = policy;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** A new MCP server for one client session (the 2025 era); connect it to a transport. */
  createSession(opts: SessionOptions): GatewaySession {
    const id = opts.sessionId ?? randomUUID();
    const scope: SessionScope = opts.scope ?? { kind: "all" };
    const hierarchical = this.hierarchical && scope.kind === "all";
    const principal = opts.principal ?? (opts.transport === "stdio" ? LOCAL_PRINCIPAL : ANONYMOUS_PRINCIPAL);
    const log = this.logger.child({ session: id.slice(0, 8), transport: opts.transport, principal: principal.id, ...(scope.kind === "server" ? { scope: scope.prefix } : {}) });
    const server = new Server(this.options.serverInfo ?? { ...IMPLEMENTATION }, { capabilities: GATEWAY_CAPABILITIES, instructions: instructionsFor(scope, hierarchical) });
    let logLevel: LoggingLevel | undefined;
    const handlers = this.handlers(scope, {
      sessionId: id,
      principal,
      logger: log,
      clientCapabilities: () => server.getClientCapabilities(),
      logLevel: () => logLevel,
      inputRequired: "fulfil",
    });

    server.setRequestHandler(SetLevelRequestSchema, async (request) => {
      logLevel = request.params.level;
      return {};
    });
    server.setRequestHandler(ListToolsRequestSchema, async () => handlers.listTools());
    server.setRequestHandler(CallToolRequestSchema, async (request, extra) => completed(await handlers.callTool(request.params, extra)));
    server.setRequestHandler(ListResourcesRequestSchema, async () => handlers.listResources());
    server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => handlers.listResourceTemplates());
    server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => completed(await handlers.readResource(request.params, extra)));
    server.setRequestHandler(ListPromptsRequestSchema, async () => handlers.listPrompts());
    server.setRequestHandler(GetPromptRequestSchema, async (request, extra) => completed(await handlers.getPrompt(request.params, extra)));
    server.setRequestHandler(CompleteRequestSchema, (request, extra) => handlers.complete(request.params, extra));
    const subscriptions = new CallerSubscriptions(this.launcher, id);
    server.setRequestHandler(SubscribeRequestSchema, async (request, extra) => {
      const { routes, original } = this.resolveUri(this.holder.current(), scope, request.params.uri);
      this.requireAccess(principal, "resource", routes.server.prefix, original);
      const shown = request.params.uri;
      return subscriptions
        .subscribe(routes, original, () => void server.sendResourceUpdated({ uri: shown }).catch(() => undefined), extra.signal)
        .catch((error: unknown) => {
          throw clientError(error, this.options.scrub);
        });
    });
    server.setRequestHandler(UnsubscribeRequestSchema, async (request, extra) => {
      const { routes, original } = this.resolveUri(this.holder.current(), scope, request.params.uri);
      return subscriptions.unsubscribe(routes, original, extra.signal).catch((error: unknown) => {
        throw clientError(error, this.options.scrub);
      });
    });

    const unsubscribe = this.onListsChanged(scope, () => {
      if (!server.getClientCapabilities()) return; // not initialized yet: it will list the new table anyway
      void server.sendToolListChanged().catch(() => undefined);
      void server.sendResourceListChanged().catch(() => undefined);
      void server.sendPromptListChanged().catch(() => undefined);
    });

    let closed = false;
    const session: GatewaySession = {
      id,
      server,
      close: async () => {
        if (closed) return;
        closed = true;
        unsubscribe();
        subscriptions.close();
        this.sessions.delete(session);
        await this.launcher.endSession(id).catch((error: unknown) => log.warn({ err: (error as Error).message }, "ending session containers failed"));
        log.debug("session closed");
      },
    };
    this.sessions.add(session);
    log.debug("session opened");
    return session;
  }

  /**
   * One self-contained request (the 2026-07-28 era: no session; who asks, with what capabilities
   * and log level, travels in the request's `_meta`). `end()` releases what the request held
   * (per-session containers live as long as the request).
   */
  statelessRequest(opts: StatelessRequestOptions): { handlers: ScopeHandlers; end(): Promise<void> } {
    const id = randomUUID();
    const scope: SessionScope = opts.scope ?? { kind: "all" };
    const principal = opts.principal ?? ANONYMOUS_PRINCIPAL;
    const log = this.logger.child({ request: id.slice(0, 8), transport: opts.transport, principal: principal.id, ...(scope.kind === "server" ? { scope: scope.prefix } : {}) });
    const handlers = this.handlers(scope, {
      sessionId: id,
      principal,
      logger: log,
      clientCapabilities: () => opts.clientCapabilities,
      logLevel: () => opts.logLevel,
      inputRequired: "return",
    });
    return { handlers, end: () => this.launcher.endSession(id).catch((error: unknown) => log.warn({ err: (error as Error).message }, "ending request containers failed")) };
  }

  /** Calls `listener` whenever a table swap changes what the scope lists; returns the unsubscribe. */
  onListsChanged(scope: SessionScope, listener: () => void): () => void {
    const view = (table: RoutingTable): ScopeView => viewOf(table, scope, this.hierarchical && scope.kind === "all");
    // A new access policy may change what anyone sees: it changes the signature too.
    let signature = `${view(this.holder.current()).signature()}|${this.#access.version}`;
    return this.holder.subscribe((next) => {
      const nextSignature = `${view(next).signature()}|${this.#access.version}`;
      if (nextSignature === signature) return;
      signature = nextSignature;
      listener();
    });
  }

  /**
   * Resource subscriptions for a caller without a session (a 2026 `subscriptions/listen` stream):
   * `watch` subscribes on the owning upstream and calls `listener` with the caller's URI on each
   * update; `close` ends them and the upstream instances they held.
   */
  resourceWatch(scope: SessionScope, principal: Principal): { watch(uri: string, listener: (uri: string) => void, signal?: AbortSignal): Promise<void>; close(): Promise<void> } {
    const id = randomUUID();
    const subscriptions = new CallerSubscriptions(this.launcher, id);
    return {
      watch: async (uri, listener, signal) => {
        const { routes, original } = this.resolveUri(this.holder.current(), scope, uri);
        this.requireAccess(principal, "resource", routes.server.prefix, original);
        await subscriptions.subscribe(routes, original, () => listener(uri), signal);
      },
      close: async () => {
        subscriptions.close();
        await this.launcher.endSession(id).catch(() => undefined);
      },
    };
  }

  /** What `server/discover` and `initialize` advertise for a scope. */
  advertisement(scope: SessionScope = { kind: "all" }): { capabilities: typeof GATEWAY_CAPABILITIES; instructions: string; serverInfo: { name: string; version: string } } {
    return { capabilities: GATEWAY_CAPABILITIES, instructions: instructionsFor(scope, this.hierarchical && scope.kind === "all"), serverInfo: this.options.serverInfo ?? { ...IMPLEMENTATION } };
  }

  /** The request handlers of one scope, for one caller (a session, or a stateless request). */
  private handlers(scope: SessionScope, caller: CallerIdentity): ScopeHandlers {
    const hierarchical = this.hierarchical && scope.kind === "all";
    const view = (table: RoutingTable): ScopeView => viewOf(table, scope, hierarchical);
    const observer = new CallObserver({
      sessionId: caller.sessionId,
      principal: caller.principal,
      logger: caller.logger,
      revisionOf: (server) => this.revisionOf(server),
      clientCapabilities: caller.clientCapabilities,
      logLevel: caller.logLevel,
      inputRequired: caller.inputRequired,
      ...(this.options.metrics ? { metrics: this.options.metrics } : {}),
      ...(this.options.audit ? { audit: this.options.audit } : {}),
      ...(this.options.tracer ? { tracer: this.options.tracer } : {}),
      ...(this.options.scrub ? { scrub: this.options.scrub } : {}),
    });
    const observed = observer.observe.bind(observer);
    const accessNow = () => this.#access.accessFor(caller.principal);
    const metrics = this.options.metrics;
    const check = (kind: AccessKind, prefix: string, name: string): void => {
      try {
        requireAccess(accessNow(), caller.principal, kind, prefix, name);
      } catch (error) {
        metrics?.observePrincipal(caller.principal.id, "denied");
        throw error;
      }
    };
    // A call (not a completion or subscription) is also counted against the policy's rate limits.
    const admit = (kind: AccessKind, prefix: string, name: string): void => {
      check(kind, prefix, name);
      const refusal = this.#limiter.take(caller.principal.id, accessNow().limits(prefix, name), prefix, name);
      if (!refusal) return;
      metrics?.observePrincipal(caller.principal.id, "rate_limited");
      throw rateLimited(caller.principal, refusal, kind, prefix, name);
    };
    const scrubbed = <T>(run: Promise<T>): Promise<T> =>
      run.catch((error: unknown) => {
        throw clientError(error, this.options.scrub);
      });
    const scopedRoutes = (table: RoutingTable, prefix?: string): ServerRoutes => {
      if (scope.kind === "server") {
        const routes = table.servers.get(scope.prefix);
        if (!routes) throw new McpError(ErrorCode.InvalidRequest, `server "${scope.prefix}" is no longer in the registry; reconnect to /mcp`);
        return routes;
      }
      return serverRoutes(table, prefix ?? "");
    };

    // A 2026 caller's retry of a modern upstream's round: its answers and the upstream's state go on to it.
    const round = (params: Record<string, unknown>): Record<string, unknown> =>
      caller.inputRequired === "return" ? Object.fromEntries(Object.entries(params).filter(([k]) => k === "inputResponses" || k === "requestState")) : {};
    const callTool = async (routes: ServerRoutes, tool: string, args: Record<string, unknown> | undefined, extra: HandlerExtra, rest: Record<string, unknown>) => {
      const definition = routes.tools.find((t) => t.name === tool);
      if (!definition) {
        throw new McpError(ErrorCode.InvalidParams, `server "${routes.server.prefix}" has no tool "${tool}" (or it is denied by router.allowTools/denyTools)`);
      }
      admit("tool", routes.server.prefix, tool);
      // A 2026 caller may get a task handle (the Tasks extension), sealed to this server and caller.
      const schema = caller.inputRequired === "return" ? CALL_TOOL_OR_TASK : CallToolResultSchema;
      const result = await observed("tools/call", routes, tool, extra, { tool }, (ctx) =>
        upstreamCall(this.launcher, routes, ctx, (client, requestOptions, meta) =>
          client.request({ method: "tools/call", params: { name: tool, arguments: args ?? {}, ...rest, ...meta } }, schema, { ...requestOptions, tool: definition }),
        ),
      );
      return isUpstreamTask(result) ? { ...result, taskId: this.tasks.issue(routes.server.prefix, result.taskId, caller.principal.id) } : result;
    };
    const task = async (method: TaskMethod, params: Record<string, unknown>, extra: HandlerExtra): Promise<Record<string, unknown>> => {
      const { taskId: handle, _meta: _hop, ...rest } = params;
      const { prefix, taskId } = this.tasks.open(handle, caller.principal.id);
      if (scope.kind === "server" && scope.prefix !== prefix) throw new McpError(ErrorCode.InvalidParams, `unknown task: it belongs to server "${prefix}"; ask /servers/${prefix}/mcp or /mcp`);
      const routes = scopedRoutes(this.holder.current(), prefix);
      const result = await observed(method, routes, "", extra, { task: String(handle).slice(0, 16) }, (ctx) =>
        upstreamCall(this.launcher, routes, ctx, (client, requestOptions, meta) => client.request({ method, params: { ...rest, taskId, ...meta } }, TASK_REPLY, { ...requestOptions, inputRequired: "fulfil" })),
      );
      // The upstream's task id stays on its hop: the client sees its handle.
      return "taskId" in result ? { ...result, taskId: handle } : result;
    };
    const handleCallTool = async (params: { name: string; arguments?: Record<string, unknown> | undefined }, extra: HandlerExtra) => {
      const table = this.holder.current();
      const { name } = params;
      const args = params.arguments;
      const rest = round(params);
      if (scope.kind === "server") return callTool(scopedRoutes(table), name, args, extra, rest);
      if (hierarchical) {
        if (name === "call_tool") {
          const call = parseCallTool(args ?? {});
          return callTool(serverRoutes(table, call.server), call.tool, call.arguments, extra, rest);
        }
        return metaToolResult(table, name, args ?? {}, accessNow());
      }
      const route = table.tools.get(name);
      if (!route) throw new McpError(ErrorCode.InvalidParams, `unknown tool "${name}"; tools are named <server>__<tool>, see tools/list`);
      return callTool(route.routes, route.original, args, extra, rest);
    };

    const readResource = async (params: ReadResourceRequest["params"], extra: HandlerExtra): Promise<ReadResourceResult | UpstreamInputRequired> => {
      const table = this.holder.current();
      const { routes, original } = this.resolveUri(table, scope, params.uri);
      admit("resource", routes.server.prefix, original);
      const result = await observed("resources/read", routes, "", extra, { uri: original }, (ctx) =>
        upstreamCall(this.launcher, routes, ctx, (client, requestOptions, meta) =>
          client.request({ method: "resources/read", params: { uri: original, ...round(params), ...meta } }, ReadResourceResultSchema, requestOptions),
        ),
      );
      if (scope.kind === "server" || isUpstreamInputRequired(result)) return result;
      return { ...result, contents: result.contents.map((c) => ({ ...c, uri: namespacedUri(routes.server.prefix, c.uri) })) };
    };
    const getPrompt = async (params: GetPromptRequest["params"], extra: HandlerExtra): Promise<GetPromptResult | UpstreamInputRequired> => {
      const { routes, original } = this.resolvePrompt(this.holder.current(), scope, params.name);
      admit("prompt", routes.server.prefix, original);
      return observed("prompts/get", routes, original, extra, { prompt: original }, (ctx) =>
        upstreamCall(this.launcher, routes, ctx, (client, requestOptions, meta) =>
          client.request({ method: "prompts/get", params: { name: original, ...(params.arguments ? { arguments: params.arguments } : {}), ...round(params), ...meta } }, GetPromptResultSchema, requestOptions),
        ),
      );
    };
    const complete = async (params: CompleteRequest["params"], extra: HandlerExtra): Promise<CompleteResult> => {
      const table = this.holder.current();
      const ref = params.ref;
      let routes: ServerRoutes;
      let upstreamRef: typeof ref;
      if (ref.type === "ref/prompt") {
        const resolved = this.resolvePrompt(table, scope, ref.name);
        check("prompt", resolved.routes.server.prefix, resolved.original);
        routes = resolved.routes;
        upstreamRef = { ...ref, name: resolved.original };
      } else {
        const resolved = this.resolveUri(table, scope, ref.uri);
        check("resource", resolved.routes.server.prefix, resolved.original);
        routes = resolved.routes;
        upstreamRef = { ...ref, uri: resolved.original };
      }
      if (!routes.completions) return { completion: { values: [], hasMore: false } };
      const refName = upstreamRef.type === "ref/prompt" ? upstreamRef.name : "";
      return observed("completion/complete", routes, refName, extra, { complete: ref.type }, (ctx) =>
        upstreamCall(this.launcher, routes, ctx, (client, requestOptions, meta) =>
          client.request({ method: "completion/complete", params: { ...params, _meta: undefined, ref: upstreamRef, ...meta } }, CompleteResultSchema, { ...requestOptions, inputRequired: "fulfil" }),
        ),
      );
    };

    // Every error reaches the client ready: scrubbed, and without the SDK's "MCP error <code>:" prefix
    // (an unknown prompt or URI fails before any call is observed).
    // Lists show only what the caller's grants cover (meta tools always: they filter what they tell).
    type Origins = ReturnType<typeof aggregateOrigins>;
    const shown = <T extends object>(items: readonly T[], kind: AccessKind, table: RoutingTable, origin: (o: Origins) => (item: T) => { prefix: string; name: string } | undefined, nameOf: (item: T) => string): readonly T[] => {
      const access = accessNow();
      if (access.unrestricted) return items;
      if (scope.kind === "server") return visible(items, access, kind, (item) => ({ prefix: scope.prefix, name: nameOf(item) }));
      return visible(items, access, kind, origin(aggregateOrigins(table)));
    };
    const listTools = (): ListToolsResult => {
      const table = this.holder.current();
      const tools = view(table).tools();
      return listToolsResult(hierarchical ? tools : shown(tools, "tool", table, (o) => o.tool, (t) => t.name));
    };
    const listed = <T extends object>(pick: (v: ScopeView) => readonly T[], kind: AccessKind, origin: (o: Origins) => (item: T) => { prefix: string; name: string } | undefined, nameOf: (item: T) => string): T[] => {
      const table = this.holder.current();
      return [...shown(pick(view(table)), kind, table, origin, nameOf)];
    };
    return {
      listTools,
      callTool: (params, extra) => scrubbed(handleCallTool(params, extra)),
      listResources: () => ({ resources: listed((v) => v.resources(), "resource", (o) => o.resource, (r) => r.uri) }),
      listResourceTemplates: () => ({ resourceTemplates: listed((v) => v.templates(), "resource", (o) => o.template, (t) => t.uriTemplate) }),
      readResource: (params, extra) => scrubbed(readResource(params, extra)),
      listPrompts: () => ({ prompts: listed((v) => v.prompts(), "prompt", (o) => o.prompt, (p) => p.name) }),
      getPrompt: (params, extra) => scrubbed(getPrompt(params, extra)),
      complete: (params, extra) => scrubbed(complete(params, extra)),
      task: (method, params, extra) => scrubbed(task(method, params, extra)),
    };
  }

  /** Closes every session (their transports are the callers' to close). */
  async close(): Promise<void> {
    this.rounds.close();
    await Promise.all([...this.sessions].map((s) => s.close()));
  }

  /** For the requests that are not calls (subscriptions): the refusal reaches the client ready, like every other error. */
  private requireAccess(principal: Principal, kind: AccessKind, prefix: string, name: string): void {
    try {
      requireAccess(this.#access.accessFor(principal), principal, kind, prefix, name);
    } catch (error) {
      throw clientError(error, this.options.scrub);
    }
  }

  private resolvePrompt(table: RoutingTable, scope: SessionScope, name: string): { routes: ServerRoutes; original: string } {
    if (scope.kind === "server") {
      const routes = table.servers.get(scope.prefix);
      if (routes?.prompts.some((p) => p.name === name)) return { routes, original: name };
    } else {
      const route = table.prompts.get(name);
      if (route) return { routes: route.routes, original: route.original };
    }
    throw new McpError(ErrorCode.InvalidParams, `unknown prompt "${name}"; see prompts/list${scope.kind === "all" ? " (prompts are named <server>__<prompt>)" : ""}`);
  }

  /**
   * The server and original URI of a resource URI (or template). Namespaced URIs
   * (`<prefix>+<uri>`) route directly; a bare URI (e.g. a resource link a tool returned) routes
   * only when exactly one server lists it or has a template matching it, never by guess.
   */
  private resolveUri(table: RoutingTable, scope: SessionScope, uri: string): { routes: ServerRoutes; original: string } {
    if (scope.kind === "server") {
      const routes = table.servers.get(scope.prefix);
      if (!routes) throw new McpError(ErrorCode.InvalidRequest, `server "${scope.prefix}" is no longer in the registry`);
      return { routes, original: uri };
    }
    const split = splitUri(table, uri);
    if (split) return split;
    const owners = [...table.servers.values()].filter(
      (r) =>
        r.resources.some((res) => res.uri === uri) ||
        r.resourceTemplates.some((t) => {
          if (t.uriTemplate === uri) return true;
          try {
            return new UriTemplate(t.uriTemplate).match(uri) !== null;
          } catch {
            return false;
          }
        }),
    );
    const only = owners[0];
    if (owners.length === 1 && only) return { routes: only, original: uri };
    if (owners.length > 1) {
      throw new McpError(
        ErrorCode.InvalidParams,
        `resource "${uri}" is offered by several servers (${owners.map((o) => o.server.prefix).join(", ")}); use the namespaced URI, e.g. ${namespacedUri(owners[0]?.server.prefix ?? "", uri)}`,
      );
    }
    throw new McpError(ErrorCode.InvalidParams, `unknown resource "${uri}"; resource URIs are <server>+<uri>, see resources/list`);
  }
}
