/**
 * Remote upstreams of the 2026-07-28 era, through the SDK v2 client. The era is probed once per
 * server version (`eraVerdict`: `server/discover` under `mode: 'auto'`; a 2025 server falls back to
 * `initialize`, and that probe session is ended at once). A modern verdict keeps the server's
 * DiscoverResult, and every later client connects with it as `prior`: nothing is sent on connect,
 * no session exists, so a client is made per lease and costs no round trip. The client it makes is
 * the era-neutral `ModernUpstreamClient` (../modern-upstream-client.ts).
 */
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import type { Client, DiscoverResult } from "@modelcontextprotocol/client";
import { advertisesLegacy } from "../launcher.js";
import { carryTasks, ModernUpstreamClient, newModernClient } from "../modern-upstream-client.js";
import type { RemoteTarget } from "./remote-target.js";

/**
 * What the probe found: a 2026 server (with its advertisement, and whether it also opens 2025
 * sessions: 2025 callers keep those, so its mid-call questions reach them as before) or a 2025 one.
 */
export type EraVerdict = { kind: "modern"; discover: DiscoverResult; alsoLegacy: boolean } | { kind: "legacy" };

export interface ModernClientOptions {
  clientInfo?: { name: string; version: string };
  fetch?: typeof fetch;
  /** Bound on the probe (default 30 s). */
  connectTimeoutMs?: number;
}

const TERMINATE_WAIT_MS = 2_000;

function newClient(options: ModernClientOptions): Client {
  return newModernClient(options.clientInfo);
}

function newTransport(target: RemoteTarget, fetchFn: typeof fetch = fetch): StreamableHTTPClientTransport {
  return new StreamableHTTPClientTransport(target.url, { requestInit: { headers: target.headers }, fetch: fetchFn });
}

/**
 * Probes a Streamable HTTP upstream's era once: `server/discover`, falling back to `initialize` for
 * a 2025 server (whose probe session is then ended). Rejects when the upstream answers neither.
 */
export async function eraVerdict(target: RemoteTarget, options: ModernClientOptions): Promise<{ verdict: EraVerdict; name: string | undefined }> {
  const found = await probeOnce(target, options, undefined);
  if (found.verdict.kind === "legacy") return { verdict: found.verdict, name: found.name };
  const { discover } = found.verdict;
  // Does it open 2025 sessions too? Advertised, or else asked once with initialize.
  const alsoLegacy = advertisesLegacy(discover) || (await probeOnce(target, options, { kind: "legacy" }).then(() => true, () => false));
  return { verdict: { kind: "modern", discover, alsoLegacy }, name: found.name };
}

async function probeOnce(target: RemoteTarget, options: ModernClientOptions, prior: { kind: "legacy" } | undefined): Promise<{ verdict: EraVerdict | { kind: "modern"; discover: DiscoverResult }; name: string | undefined }> {
  const client = newClient(options);
  const transport = newTransport(target, options.fetch);
  const limitMs = options.connectTimeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${limitMs / 1000} s`)), limitMs);
    });
    const connected = client.connect(transport, { timeout: limitMs, ...(prior ? { prior } : {}) });
    connected.catch(() => undefined);
    await Promise.race([connected, late]);
    const discover = client.getProtocolEra() === "modern" ? client.getDiscoverResult() : undefined;
    const name = client.getServerVersion()?.name;
    return { verdict: discover ? { kind: "modern", discover } : { kind: "legacy" }, name };
  } finally {
    clearTimeout(timer);
    if (transport.sessionId) {
      let wait: NodeJS.Timeout | undefined;
      await Promise.race([transport.terminateSession().catch(() => undefined), new Promise<void>((resolve) => (wait = setTimeout(resolve, TERMINATE_WAIT_MS)))]);
      clearTimeout(wait);
    }
    await client.close().catch(() => undefined);
  }
}

/** A client of a modern upstream, connected with its known advertisement: no round trip. */
export async function connectModern(target: RemoteTarget, discover: DiscoverResult, options: ModernClientOptions): Promise<ModernUpstreamClient> {
  const client = newClient(options);
  await client.connect(carryTasks(newTransport(target, options.fetch)), { prior: { kind: "modern", discover } });
  return new ModernUpstreamClient(client);
}
