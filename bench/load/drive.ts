/**
 * How the load bench loads a target: N SDK clients (v1, `@modelcontextprotocol/sdk`: the client
 * most users run) each calling `echo` back to back for a window (closed loop: throughput and
 * latency at that concurrency), or calls started at a steady rate whatever the answers do (open
 * loop: latency at a given load; a call's time counts from when it was due, so a stall that
 * delays later calls shows in their latency instead of being hidden).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

export interface Endpoint {
  url: URL;
  /** What the clients speak: Streamable HTTP, or the SSE transport (mcp-hub's only client transport). */
  transport: "streamable-http" | "sse";
  /** The echo tool's name at this endpoint (gateways prefix it). */
  tool: string;
}

export interface Caller {
  call(): Promise<void>;
  /** The names `tools/list` gives (readiness checks). */
  listTools(): Promise<string[]>;
  close(): Promise<void>;
}

export async function connectCaller(endpoint: Endpoint): Promise<Caller> {
  const client = new Client({ name: "bench-load", version: "1.0.0" });
  try {
    await client.connect(endpoint.transport === "sse" ? new SSEClientTransport(endpoint.url) : new StreamableHTTPClientTransport(endpoint.url));
  } catch (error) {
    // An SSE transport that failed to connect keeps retrying (its EventSource) until it is closed.
    await client.close().catch(() => undefined);
    throw error;
  }
  return {
    async call() {
      const result = await client.callTool({ name: endpoint.tool, arguments: { message: "bench" } });
      const first = (result.content as { text?: string }[] | undefined)?.[0];
      if (result.isError || first?.text !== "Echo: bench") throw new Error(`unexpected echo answer: ${JSON.stringify(result).slice(0, 200)}`);
    },
    listTools: async () => (await client.listTools()).tools.map((t) => t.name),
    close: () => client.close(),
  };
}

/** `count` callers, connected `batch` at a time (a peer that starts a process per session gets them one batch at a time). */
export async function connectCallers(endpoint: Endpoint, count: number, batch = 8): Promise<Caller[]> {
  const callers: Caller[] = [];
  try {
    while (callers.length < count) {
      const n = Math.min(batch, count - callers.length);
      callers.push(...(await Promise.all(Array.from({ length: n }, () => connectCaller(endpoint)))));
    }
  } catch (error) {
    await Promise.all(callers.map((c) => c.close().catch(() => undefined)));
    throw error;
  }
  return callers;
}

export const emptySample = (): Sample => ({ calls: 0, errors: 0, seconds: 0, latencies: [] });

/** Adds `more` (another window on the same target) to `into`. */
export function mergeSample(into: Sample, more: Sample): Sample {
  into.calls += more.calls;
  into.errors += more.errors;
  into.firstError ??= more.firstError;
  into.seconds += more.seconds;
  for (const latency of more.latencies) into.latencies.push(latency);
  if (more.cpu) {
    into.cpu ??= { client: 0, gateway: 0, upstream: 0 };
    into.cpu.client += more.cpu.client;
    into.cpu.gateway += more.cpu.gateway;
    into.cpu.upstream += more.cpu.upstream;
  }
  return into;
}

export interface Sample {
  /** Calls answered correctly. */
  calls: number;
  errors: number;
  /** The first error's message, for the row. */
  firstError?: string;
  seconds: number;
  /** Milliseconds per answered call. */
  latencies: number[];
  /** CPU milliseconds spent in the window by the bench's clients, the gateway and the upstream. */
  cpu?: { client: number; gateway: number; upstream: number };
}

/** Each caller calls back to back until `ms` have passed; the window ends when the last call is answered. */
export async function closedLoop(callers: readonly Caller[], ms: number): Promise<Sample> {
  const sample = emptySample();
  const start = performance.now();
  const until = start + ms;
  await Promise.all(
    callers.map(async (caller) => {
      while (performance.now() < until) await timed(caller, sample);
    }),
  );
  sample.seconds = (performance.now() - start) / 1000;
  return sample;
}

/**
 * Calls started at `rate` per second for `ms`, each on an idle caller (or, when all are busy, on the
 * next one to come free); latency counts from when the call was due.
 */
export async function steadyRate(callers: readonly Caller[], rate: number, ms: number): Promise<Sample> {
  const sample = emptySample();
  const idle = [...callers];
  const waiting: number[] = [];
  const running = new Set<Promise<void>>();
  const total = Math.max(1, Math.floor((rate * ms) / 1000));
  const start = performance.now();
  const dueAt = (i: number): number => start + (i * 1000) / rate;
  const run = (caller: Caller, due: number): void => {
    const p = timed(caller, sample, due).then(() => {
      running.delete(p);
      const next = waiting.shift();
      if (next === undefined) idle.push(caller);
      else run(caller, next);
    });
    running.add(p);
  };
  let issued = 0;
  while (issued < total) {
    const now = performance.now();
    while (issued < total && dueAt(issued) <= now) {
      const caller = idle.pop();
      if (caller) run(caller, dueAt(issued));
      else waiting.push(dueAt(issued));
      issued += 1;
    }
    // Timers fire about every millisecond at best: calls due in between start together at the next tick.
    await sleep(Math.max(0, Math.min(5, dueAt(issued) - performance.now())));
  }
  while (running.size > 0 || waiting.length > 0) await Promise.race(running);
  sample.seconds = (performance.now() - start) / 1000;
  return sample;
}

/** One call on `caller`, its latency counted from `from` (default: now) into `sample`. */
export async function timed(caller: Caller, sample: Sample, from = performance.now()): Promise<void> {
  try {
    await caller.call();
    sample.latencies.push(performance.now() - from);
    sample.calls += 1;
  } catch (error) {
    sample.errors += 1;
    sample.firstError ??= (error as Error).message;
  }
}
