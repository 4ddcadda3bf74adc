/**
 * The gateway over stdio (Claude Desktop): one session on the process's stdin/stdout. Nothing
 * but protocol goes to stdout; the caller's logger must write to stderr.
 */
import type { Readable, Writable } from "node:stream";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { Gateway, GatewaySession } from "../gateway/gateway.js";

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
  return {
    session,
    closed,
    async close() {
      await transport.close();
      await closed;
    },
  };
}
