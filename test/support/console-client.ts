/** A console client for tests: signs in like the page does, keeps the cookie and CSRF token, reads event streams. */
import assert from "node:assert/strict";

/** Parsed JSON from the console API, read by the tests' assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface ConsoleClient {
  cookie: string;
  csrfToken: string;
  principal: string;
  setCookie: string;
  /** A console API request with the session cookie (and the CSRF token unless `csrf: false`). */
  request(path: string, init?: { method?: string; body?: unknown; csrf?: boolean; headers?: Record<string, string> }): Promise<{ status: number; body: Json }>;
}

export async function signIn(base: URL, key: string, headers: Record<string, string> = {}): Promise<ConsoleClient> {
  const res = await fetch(new URL("/api/console/session", base), { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ key }) });
  assert.equal(res.status, 200, await res.clone().text());
  const setCookie = res.headers.get("set-cookie") ?? "";
  const body = (await res.json()) as { csrfToken: string; principal: string };
  const cookie = setCookie.split(";")[0]!;
  return {
    cookie,
    csrfToken: body.csrfToken,
    principal: body.principal,
    setCookie,
    async request(path, init = {}) {
      const method = init.method ?? "GET";
      const h: Record<string, string> = { cookie, ...init.headers };
      if (method !== "GET") {
        h["content-type"] ??= "application/json";
        if (init.csrf !== false) h["x-csrf-token"] = body.csrfToken;
      }
      const r = await fetch(new URL(`/api/console/${path}`, base), { method, headers: h, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : method !== "GET" ? { body: "{}" } : {}) });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : undefined };
    },
  };
}

/** The console's event stream: each `event: overview` payload, as it arrives. */
export async function openEvents(base: URL, cookie: string): Promise<{ next(match?: (data: Json) => boolean): Promise<{ event: string; data: Json }>; close(): void; status: number }> {
  const controller = new AbortController();
  const res = await fetch(new URL("/api/console/events", base), { headers: { cookie, accept: "text/event-stream" }, signal: controller.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const frames: { event: string; data: Json }[] = [];
  async function read(): Promise<{ event: string; data: Json } | undefined> {
    while (true) {
      const end = buffer.indexOf("\n\n");
      if (end >= 0) {
        const raw = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(raw)?.[1];
        const data = /^data: (.*)$/m.exec(raw)?.[1];
        if (event && data !== undefined) return { event, data: JSON.parse(data) };
        continue;
      }
      const { value, done } = await reader.read();
      if (done) return undefined;
      buffer += decoder.decode(value, { stream: true });
    }
  }
  return {
    status: res.status,
    async next(match = () => true) {
      for (;;) {
        const frame = frames.shift() ?? (await read());
        if (!frame) throw new Error("the event stream ended");
        if (frame.event !== "overview" || match(frame.data)) return frame;
      }
    },
    close: () => controller.abort(),
  };
}
