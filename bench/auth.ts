/**
 * Auth benchmark (issue 17), no Docker: what the principal, the OAuth check and the access policy
 * cost a call, each next to a baseline measured in the same run.
 *
 *  1. A 2026-07-28 `tools/call` over HTTP with an OAuth access token (a real oidc-provider issued
 *     it; its JWKS fetched once and cached) against a daemon with `--no-auth`, identical otherwise
 *     (in-process probe upstream, `lifecycle: shared`), calls interleaved one by one so both see
 *     the same machine: the p50 difference is what the bearer check adds to a call (target
 *     <= 0.2 ms). The token is the same on every call, as a client's is until it expires.
 *  2. The check of a token seen for the first time (a full JWT signature verification with the
 *     cached JWKS: what a new or refreshed token costs once), p50 over distinct tokens, signed
 *     RS256 (what most identity providers use) and ES256.
 *  3. The policy decision of a call (grants and limits of a principal, 40 grants with globs, 10
 *     limits) against the open policy, p50 per decision over batches (target <= 0.05 ms).
 * Run alone: `npx tsx bench/auth.ts [calls]`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { AccessPolicy } from "../src/auth/access-policy.js";
import { OAuthTokenVerifier } from "../src/auth/oauth-token-verifier.js";
import type { Principal } from "../src/auth/principal.js";
import { RateLimiter } from "../src/auth/rate-limiter.js";
import { parseAccessFile } from "../src/registry/access-file.js";
import { startInProcessDaemon } from "../test/support/in-process-daemon.js";
import { modernRequest } from "../test/support/mcp-raw.js";
import type { TestIssuer } from "../test/support/oidc-issuer.js";
import { startTestIssuer } from "../test/support/oidc-issuer.js";
import { formatTable, percentile, type BenchRow } from "./bench-row.js";

const TOKEN_TARGET_MS = 0.2;
const POLICY_TARGET_MS = 0.05;

/** 40 grants (by group, subject and key, with globs) and 10 limits: a team's policy. */
function teamPolicy(): string {
  const lines = ["grants:"];
  for (let i = 0; i < 40; i++) {
    const who = i % 3 === 0 ? `group:team-${i}` : i % 3 === 1 ? `subject:user-${i}@example.com` : `key:${i.toString(16).padStart(8, "0")}`;
    lines.push(`  - who: ["${who}"]`, `    servers: ["server-${i}", "shared-*"]`, `    tools: ["read_*", "search", "tool-${i}-?"]`);
  }
  lines.push(`  - who: ["group:eng"]`, `    servers: ["percall", "git*"]`, `    tools: ["get_*", "whoami", "list_*"]`);
  lines.push("limits:");
  for (let i = 0; i < 10; i++) lines.push(`  - who: ["${i === 9 ? "group:eng" : `group:team-${i}`}"]`, `    servers: ["percall", "server-${i}"]`, `    rate: 100000/second`, `    per: tool`);
  return `${lines.join("\n")}\n`;
}

async function benchTokenCalls(calls: number, log: (line: string) => void): Promise<BenchRow[]> {
  const issuer = await startTestIssuer([{ id: "bench", groups: ["eng"] }]);
  const open = await startInProcessDaemon({ http: { apiKeys: undefined } });
  const oauth = await startInProcessDaemon({ http: { oauth: { issuer: issuer.issuer } } });
  try {
    const token = await issuer.token("bench", `${oauth.url.href.replace(/\/$/, "")}/mcp`);
    const call = (url: URL, bearer: string | undefined) => modernRequest(url, "/mcp", bearer, "tools/call", { name: "percall__whoami", arguments: {} });
    const timed = async (url: URL, bearer: string | undefined) => {
      const t0 = performance.now();
      const reply = await call(url, bearer);
      const ms = performance.now() - t0;
      if (reply.status !== 200 || reply.body.error) throw new Error(`bench call failed: ${reply.status} ${JSON.stringify(reply.body)}`);
      return ms;
    };
    for (let i = 0; i < 200; i++) {
      await timed(open.url, undefined);
      await timed(oauth.url, token);
    }
    log(`auth: ${calls} tools/call each, with a token and without auth, interleaved...`);
    const withToken: number[] = [];
    const without: number[] = [];
    for (let i = 0; i < calls; i++) {
      // Alternate which goes first, so neither always follows the other.
      if (i % 2 === 0) {
        without.push(await timed(open.url, undefined));
        withToken.push(await timed(oauth.url, token));
      } else {
        withToken.push(await timed(oauth.url, token));
        without.push(await timed(open.url, undefined));
      }
    }
    const p50 = percentile(withToken, 50);
    const base = percentile(without, 50);
    const added = p50 - base;

    const firstCheck = async (alg: "ES256" | "RS256"): Promise<BenchRow> => {
      const signer = alg === "ES256" ? issuer : await startTestIssuer([], "mcp", alg);
      try {
        const ms = await firstCheckMs(signer);
        return {
          name: `auth: a token's first check (JWT ${alg} signature, cached JWKS) p50`,
          value: ms,
          unit: "ms",
          baseline: { name: "no-auth call p50", value: base },
          ratio: ms / base,
          target: `<= ${TOKEN_TARGET_MS} ms`,
          ok: ms <= TOKEN_TARGET_MS,
        };
      } finally {
        if (signer !== issuer) await signer.close();
      }
    };
    const firstChecks = [await firstCheck("RS256"), await firstCheck("ES256")];
    return [
      {
        name: "auth: 2026 tools/call p50 with an OAuth token (HTTP, cached JWKS)",
        value: p50,
        unit: "ms",
        baseline: { name: "the same call, --no-auth", value: base },
        ratio: p50 / base,
      },
      {
        name: "auth: what the token check adds to a call (p50 difference)",
        value: added,
        unit: "ms",
        target: `<= ${TOKEN_TARGET_MS} ms`,
        ok: added <= TOKEN_TARGET_MS,
      },
      ...firstChecks,
    ];
  } finally {
    await oauth.close();
    await open.close();
    await issuer.close();
  }
}

/** p50 of checking tokens never seen before (each a full signature verification), the issuer's JWKS fetched once first. */
async function firstCheckMs(issuer: TestIssuer): Promise<number> {
  const verifier = new OAuthTokenVerifier({ issuer: issuer.issuer });
  const audience = "https://bench.example.com/mcp";
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const fresh = await Promise.all(Array.from({ length: 1000 }, (_, i) => issuer.mint({ iss: issuer.issuer, sub: `user-${i}`, aud: audience, scope: "mcp", exp })));
  await verifier.verify(fresh[0]!, [audience]);
  const samples: number[] = [];
  for (const token of fresh.slice(1)) {
    const t0 = performance.now();
    await verifier.verify(token, [audience]);
    samples.push(performance.now() - t0);
  }
  return percentile(samples, 50);
}

function benchPolicy(log: (line: string) => void): BenchRow[] {
  const { policy: file, diagnostics } = parseAccessFile("bench", "access.yaml", teamPolicy());
  if (!file) throw new Error(`the bench policy is invalid: ${JSON.stringify(diagnostics)}`);
  const principals: Principal[] = Array.from({ length: 100 }, (_, i) => ({ kind: "oauth", id: `oauth:user-${i}`, subject: `user-${i}`, issuer: "x", scopes: [], groups: ["eng", `team-${i % 40}`], expiresAt: 0 }));
  const tools = ["whoami", "get_file", "list_issues", "create_issue", "read_graph", "search"];
  const limiter = new RateLimiter();
  /** What the gateway does per call: the principal's access, the grant check, its limits, a token taken. */
  const decide = (policy: AccessPolicy, i: number): boolean => {
    const principal = principals[i % principals.length]!;
    const tool = tools[i % tools.length]!;
    const access = policy.accessFor(principal);
    const allowed = access.unrestricted || access.allows("tool", "percall", tool);
    return allowed && limiter.take(principal.id, access.limits("percall", tool), "percall", tool) === undefined;
  };
  const team = new AccessPolicy(file);
  const batch = 1000;
  const perDecision = (policy: AccessPolicy): number[] => {
    const samples: number[] = [];
    let sink = 0;
    for (let b = 0; b < 300; b++) {
      const t0 = performance.now();
      for (let i = 0; i < batch; i++) if (decide(policy, b * batch + i)) sink++;
      samples.push((performance.now() - t0) / batch);
    }
    if (sink < 0) log("unreachable");
    return samples;
  };
  perDecision(team);
  perDecision(AccessPolicy.OPEN);
  log("auth: policy decisions, 300 batches of 1000...");
  const teamMs = percentile(perDecision(team), 50);
  const openMs = percentile(perDecision(AccessPolicy.OPEN), 50);
  return [
    {
      name: "auth: policy decision per call p50 (40 grants, 10 limits)",
      value: teamMs,
      unit: "ms",
      baseline: { name: "no access.yaml", value: openMs },
      ratio: teamMs / openMs,
      target: `<= ${POLICY_TARGET_MS} ms`,
      ok: teamMs <= POLICY_TARGET_MS,
    },
  ];
}

export async function benchAuth(options: { calls?: number; log?: (line: string) => void } = {}): Promise<BenchRow[]> {
  const log = options.log ?? ((line: string) => console.error(line));
  const dir = await mkdtemp(join(tmpdir(), "mcp-router-bench-auth-"));
  try {
    return [...(await benchTokenCalls(options.calls ?? 2000, log)), ...benchPolicy(log)];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const calls = Number(process.argv[2] ?? 2000);
  console.log(formatTable(await benchAuth({ calls })));
}
