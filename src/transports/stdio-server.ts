/**
 * The gateway over stdio (Claude Desktop): one connection on the process's stdin/stdout, in
 * either protocol era. A 2025 client opens with `initialize` and gets a session; a 2026-07-28
 * client's requests (each with its protocol version in `_meta`, or `server/discover`) are answered
 * one by one, statelessly, as over HTTP. Nothing but protocol goes to stdout; the caller's logger
 * must write to stderr.
 */
import type { Readable, Writable } from "node:stream";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { JSONRPCMessage, JSONRPCRequest, RequestId } from "@modelcontextprotocol/sdk/types.js";
import { LOCAL_PRINCIPAL } from "../auth/principal.js";
import type { Gateway, GatewaySession } from "../gateway/gateway.js";
import { answerStatelessRequest, isStatelessRequest } from "./stateless-exchange.js";

export interface StdioGateway {
  readonly session: GatewaySession;
  /** Resolves when the client closes stdin (or the transport closes). */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

export async function startStdioGateway(gateway: Gateway, stdin: Readable, stdout: Writable): Promise<StdioGateway> {
  const session = gateway.createSession({ transport: "stdio" });
  const transport = new StdioServerTransport(stdin, stdout);
  let resolveClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  transport.onclose = () => {
    void session.close().finally(resolveClosed);
  };
  stdin.once("end", () => void transport.close());
  stdin.once("close", () => void transport.close());
  await session.server.connect(transport);
  // 2026-07-28 requests never reach the session's server: they are answered on their own.
  const sessionOnMessage = transport.onmessage;
  const running = new Map<RequestId, AbortController>();
  transport.onmessage = (message: JSONRPCMessage) => {
    if (isStatelessRequest(message)) {
      const request = message as unknown as JSONRPCRequest;
      const aborted = new AbortController();
      running.set(request.id, aborted);
      const notify = (notification: object) => void transport.send({ jsonrpc: "2.0", ...notification } as JSONRPCMessage).catch(() => undefined);
      void answerStatelessRequest(request as never, { gateway, scope: { kind: "all" }, principal: LOCAL_PRINCIPAL, transport: "stdio" }, { notify, signal: aborted.signal }).then((outcome) => {
        running.delete(request.id);
        if (!aborted.signal.aborted) void transport.send(outcome.response as JSONRPCMessage).catch(() => undefined);
      });
      return;
    }
    const cancelled = "method" in message && message.method === "notifications/cancelled" ? running.get((message.params as { requestId: RequestId }).requestId) : undefined;
    if (cancelled) return cancelled.abort(new Error("the client cancelled the request"));
    sessionOnMessage?.(message);
  };
  return {
    session,
    closed,
    async close() {
      await transport.close();
      await closed;
    },
  };
}
