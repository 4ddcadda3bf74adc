/**
 * The server side of MCP's Streamable HTTP transport, written straight on Node's `http` for one
 * gateway session (the SDK's version converts every request to a Web `Request` and every answer
 * to a Web stream, which costs more than the gateway's whole routing).
 *
 * Each POST that carries requests is answered in the cheapest form the protocol allows: when
 * nothing but the responses is sent, as one `application/json` body; as soon as the server sends
 * anything else about one of its requests (progress, logging, a sampling or elicitation request),
 * the answer switches to `text/event-stream` and everything goes out as events. The headers are
 * written only then, so the choice is made late but is never changed. Messages about no request
 * (`list_changed`) go on the session's GET stream when the client holds one open.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Transport, TransportSendOptions } from "@modelcontextprotocol/sdk/shared/transport.js";
import { SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/sdk/types.js";
import type { JSONRPCMessage, RequestId } from "@modelcontextprotocol/sdk/types.js";
import { keepStreamAlive, SSE_HEADERS, SSE_KEEPALIVE_MS } from "./sse-keepalive.js";

/** The answer to one POST: which of its requests are still open and how it is being written. */
interface Exchange {
  readonly res: ServerResponse;
  /** The POST body was an array: the JSON answer is an array too. */
  readonly batch: boolean;
  readonly pending: Set<RequestId>;
  /** Responses held for the JSON answer. */
  readonly responses: JSONRPCMessage[];
  sse: boolean;
  done: boolean;
}

export class StreamableHttpTransport implements Transport {
  onmessage?: Transport["onmessage"];
  onclose?: () => void;
  onerror?: (error: Error) => void;

  private readonly exchanges = new Map<RequestId, Exchange>();
  private standalone: ServerResponse | undefined;
  private initialized = false;
  private closed = false;

  constructor(
    readonly sessionId: string,
    private readonly keepAliveMs: number = SSE_KEEPALIVE_MS,
  ) {}

  async start(): Promise<void> {}

  /** Whether the client holds a stream open: the GET stream, or a POST whose answer is not complete yet. */
  get streaming(): boolean {
    return this.standalone !== undefined || this.exchanges.size > 0;
  }

  /** Serves one HTTP request of this session; `body` is the parsed POST body. */
  handle(req: IncomingMessage, res: ServerResponse, body: unknown): void {
    if (this.closed) return jsonError(res, 404, -32001, "session not found; initialize a new session");
    switch (req.method) {
      case "POST":
        return this.post(req, res, body);
      case "GET":
        return this.stream(req, res);
      case "DELETE":
        void this.close();
        res.writeHead(200).end();
        return;
      default:
        res.writeHead(405, { allow: "GET, POST, DELETE" }).end();
    }
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (this.closed) return;
    if ("id" in message && message.id !== undefined && !("method" in message)) {
      // A response: it closes its request, and the POST's answer once all its requests are answered.
      const id = message.id;
      const exchange = this.exchanges.get(id);
      if (!exchange) return; // the client went away; nobody to answer
      this.exchanges.delete(id);
      exchange.pending.delete(id);
      if (exchange.sse) {
        writeEvent(exchange.res, message);
        if (exchange.pending.size === 0) this.finish(exchange);
        return;
      }
      exchange.responses.push(message);
      if (exchange.pending.size > 0) return;
      const answer = exchange.batch ? `[${exchange.responses.map(serialize).join(",")}]` : serialize(message);
      exchange.res.writeHead(200, { "content-type": "application/json", "mcp-session-id": this.sessionId }).end(answer);
      exchange.done = true;
      return;
    }
    const related = options?.relatedRequestId;
    const exchange = related === undefined ? undefined : this.exchanges.get(related);
    if (exchange && !exchange.done) {
      if (!exchange.sse) {
        exchange.sse = true;
        exchange.res.writeHead(200, { ...SSE_HEADERS, "mcp-session-id": this.sessionId });
        for (const held of exchange.responses.splice(0)) writeEvent(exchange.res, held);
      }
      writeEvent(exchange.res, message);
      return;
    }
    // About no open request: the standalone stream, if the client holds one (else it is dropped, as the spec allows).
    if (this.standalone) writeEvent(this.standalone, message);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const exchange of new Set(this.exchanges.values())) this.finish(exchange);
    this.exchanges.clear();
    this.standalone?.end();
    this.standalone = undefined;
    this.onclose?.();
  }

  private post(req: IncomingMessage, res: ServerResponse, body: unknown): void {
    const accept = req.headers.accept ?? "";
    if (!accept.includes("application/json") || !accept.includes("text/event-stream")) {
      return jsonError(res, 406, -32000, "Not Acceptable: the client must accept both application/json and text/event-stream");
    }
    if (!(req.headers["content-type"] ?? "").includes("application/json")) {
      return jsonError(res, 415, -32000, "Unsupported Media Type: the body must be application/json");
    }
    const batch = Array.isArray(body);
    const messages = (batch ? body : [body]) as unknown[];
    if (messages.length === 0 || !messages.every(isMessage)) return jsonError(res, 400, -32600, "Invalid Request: not a JSON-RPC 2.0 message MCP accepts (an id is a string or an integer, params an object)");
    const initialize = messages.some((m) => "method" in m && m.method === "initialize");
    if (initialize) {
      if (this.initialized) return jsonError(res, 400, -32600, "Invalid Request: the session is already initialized");
      if (messages.length > 1) return jsonError(res, 400, -32600, "Invalid Request: initialize must be sent alone");
      this.initialized = true;
    } else {
      const version = req.headers["mcp-protocol-version"];
      if (typeof version === "string" && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
        return jsonError(res, 400, -32000, `Bad Request: unsupported protocol version ${version} (supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(", ")})`);
      }
    }
    const extra = { requestInfo: { headers: req.headers } };
    const requests = messages.filter((m): m is JSONRPCMessage & { id: RequestId; method: string } => "method" in m && "id" in m);
    if (requests.length === 0) {
      // Only notifications and responses (e.g. the client's answer to a sampling request).
      res.writeHead(202).end();
      for (const message of messages) this.onmessage?.(message, extra);
      return;
    }
    const exchange: Exchange = { res, batch, pending: new Set(requests.map((r) => r.id)), responses: [], sse: false, done: false };
    for (const id of exchange.pending) this.exchanges.set(id, exchange);
    res.once("close", () => {
      if (exchange.done) return;
      // The client stopped listening: later answers for these requests have nowhere to go.
      exchange.done = true;
      for (const id of exchange.pending) this.exchanges.delete(id);
    });
    for (const message of messages) this.onmessage?.(message, extra);
  }

  private stream(req: IncomingMessage, res: ServerResponse): void {
    if (!(req.headers.accept ?? "").includes("text/event-stream")) {
      return jsonError(res, 406, -32000, "Not Acceptable: the client must accept text/event-stream");
    }
    if (this.standalone) return jsonError(res, 409, -32000, "Conflict: only one GET stream is allowed per session");
    this.standalone = res;
    res.writeHead(200, { ...SSE_HEADERS, "mcp-session-id": this.sessionId });
    res.flushHeaders();
    keepStreamAlive(res, this.keepAliveMs);
    res.once("close", () => {
      if (this.standalone === res) this.standalone = undefined;
    });
  }

  private finish(exchange: Exchange): void {
    exchange.done = true;
    if (!exchange.res.headersSent) exchange.res.writeHead(200, { ...SSE_HEADERS, "mcp-session-id": this.sessionId });
    exchange.res.end();
  }
}

/** A JSON-RPC 2.0 message MCP can carry: ids are strings or integers, params an object. */
function isMessage(value: unknown): value is JSONRPCMessage {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const m = value as Record<string, unknown>;
  if (m.jsonrpc !== "2.0") return false;
  const validId = typeof m.id === "string" || (typeof m.id === "number" && Number.isInteger(m.id));
  if (typeof m.method === "string") {
    const validParams = m.params === undefined || (typeof m.params === "object" && m.params !== null && !Array.isArray(m.params));
    return validParams && (!("id" in m) || validId);
  }
  return validId && ("result" in m || "error" in m);
}

function writeEvent(res: ServerResponse, message: JSONRPCMessage): void {
  res.write(`event: message\ndata: ${serialize(message)}\n\n`);
}

/** Serializations of frozen results (the gateway's cached lists), made once per result object. */
const frozenResults = new WeakMap<object, string>();

/** JSON of a message; a frozen `result` (e.g. `tools/list` of 1000 tools) is stringified only the first time. */
function serialize(message: JSONRPCMessage): string {
  const result = "result" in message ? message.result : undefined;
  if (!result || !Object.isFrozen(result) || !("id" in message)) return JSON.stringify(message);
  let json = frozenResults.get(result);
  if (json === undefined) {
    json = JSON.stringify(result);
    frozenResults.set(result, json);
  }
  return `{"jsonrpc":"2.0","id":${JSON.stringify(message.id)},"result":${json}}`;
}

function jsonError(res: ServerResponse, status: number, code: number, message: string): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null }));
}
