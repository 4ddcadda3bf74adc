/**
 * MCP over raw HTTP with any bearer, in both eras, for the edge's auth tests: a 2026-07-28 request
 * on its own, or a 2025 session (initialize, then requests on its id). Answers come back whole:
 * status, the headers that matter here, and the JSON-RPC body (an event stream's last message).
 */
export const MODERN_VERSION = "2026-07-28";
const MODERN_META = {
  "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
  "io.modelcontextprotocol/clientCapabilities": {},
  "io.modelcontextprotocol/clientInfo": { name: "auth-test", version: "1.0.0" },
};

export interface RawReply {
  status: number;
  wwwAuthenticate: string | null;
  retryAfter: string | null;
  body: { result?: Record<string, unknown> & { tools?: { name: string }[]; content?: { text?: string }[] }; error?: { code: number; message: string; data?: Record<string, unknown> } };
}

let nextId = 1;

async function reply(res: Response): Promise<RawReply> {
  const text = await res.text();
  // An event stream's answer is its last `data:` line.
  const json = text.startsWith("{") ? text : (text.split("\n").filter((l) => l.startsWith("data: ")).pop()?.slice(6) ?? "{}");
  return { status: res.status, wwwAuthenticate: res.headers.get("www-authenticate"), retryAfter: res.headers.get("retry-after"), body: JSON.parse(json) as RawReply["body"] };
}

function headers(bearer: string | undefined, extra: Record<string, string>): Record<string, string> {
  return { ...(bearer !== undefined ? { authorization: `Bearer ${bearer}` } : {}), accept: "application/json, text/event-stream", "content-type": "application/json", ...extra };
}

/** One self-contained 2026-07-28 request. */
export async function modernRequest(base: URL, path: string, bearer: string | undefined, method: string, params: Record<string, unknown> = {}): Promise<RawReply> {
  const target = typeof params.name === "string" ? params.name : typeof params.uri === "string" ? params.uri : undefined;
  const name: Record<string, string> = target !== undefined && method !== "completion/complete" ? { "mcp-name": target } : {};
  const res = await fetch(new URL(path, base), {
    method: "POST",
    headers: headers(bearer, { "mcp-protocol-version": MODERN_VERSION, "mcp-method": method, ...name }),
    body: JSON.stringify({ jsonrpc: "2.0", id: nextId++, method, params: { ...params, _meta: MODERN_META } }),
  });
  return reply(res);
}

export interface RawSession {
  readonly id: string;
  request(method: string, params?: Record<string, unknown>, bearer?: string): Promise<RawReply>;
  close(): Promise<void>;
}

/** A 2025 session: `initialize` (and `initialized`), then requests carrying its id; throws if initialize is refused. */
export async function openSession(base: URL, path: string, bearer: string | undefined): Promise<RawSession> {
  const init = await fetch(new URL(path, base), {
    method: "POST",
    headers: headers(bearer, {}),
    body: JSON.stringify({ jsonrpc: "2.0", id: nextId++, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "auth-test", version: "1.0.0" } } }),
  });
  const id = init.headers.get("mcp-session-id");
  const answer = await reply(init);
  if (!id) throw Object.assign(new Error(`initialize refused: ${init.status} ${JSON.stringify(answer.body)}`), { reply: answer });
  const sessionHeaders = (as: string | undefined) => headers(as, { "mcp-session-id": id, "mcp-protocol-version": "2025-06-18" });
  await fetch(new URL(path, base), { method: "POST", headers: sessionHeaders(bearer), body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) }).then((r) => r.text());
  return {
    id,
    async request(method, params = {}, as = bearer) {
      const res = await fetch(new URL(path, base), { method: "POST", headers: sessionHeaders(as), body: JSON.stringify({ jsonrpc: "2.0", id: nextId++, method, params }) });
      return reply(res);
    },
    async close() {
      await fetch(new URL(path, base), { method: "DELETE", headers: sessionHeaders(bearer) }).then((r) => r.text());
    },
  };
}
