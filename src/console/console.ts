/**
 * The web console, as routes for the daemon's one HTTP server (so the same Host/Origin checks
 * apply): the page at `/`, its files under `/ui/`, and its API under `/api/console/`. Every API
 * route but signing in needs a console session, which only an accepted API key opens (the same
 * keys as the bearer check; with auth off, anyone local may open one); every state-changing request
 * also needs the session's CSRF token in `X-CSRF-Token` and a JSON body. The registry, read-only as
 * the Generic Registry API under `/v0.1/`, takes the bearer key or a console session.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { Gateway } from "../gateway/gateway.js";
import { DEFAULT_POLICY } from "../registry/policy.js";
import type { GatewayMetrics } from "../observe/metrics.js";
import type { RecentCalls } from "../observe/recent-calls.js";
import type { WritableSecretStore } from "../secrets/console-secret-store.js";
import { SecretStoreError } from "../secrets/console-secret-store.js";
import type { SecretSource } from "../secrets/secret-source.js";
import type { SyncStatus } from "../sync/reconciler.js";
import { apiKeyId, bearerMatches } from "../auth/api-keys.js";
import type { Principal } from "../auth/principal.js";
import { ANONYMOUS_PRINCIPAL, apiKeyPrincipal } from "../auth/principal.js";
import type { PrefixRoute } from "../transports/http-server.js";
import { HttpError, readJsonBody } from "../transports/request-body.js";
import { ConsoleError, CSRF_HEADER, SECURITY_HEADERS, SESSION_COOKIE, cookieValue, overHttps, sendError, sendJson, sessionCookie } from "./console-http.js";
import type { ConsoleSession } from "./console-sessions.js";
import { ConsoleSessions, DEFAULT_CONSOLE_IDLE_MS, csrfMatches } from "./console-sessions.js";
import { OverviewStream } from "./overview-stream.js";
import { REGISTRY_API_PREFIX, serveRegistryApi } from "./registry-api.js";
import type { DraftChecks } from "./file-editor.js";
import { checkDraft, writeDraft } from "./file-editor.js";
import { MetricsSampler } from "./metrics-view.js";
import type { ProposerSettings } from "./proposals.js";
import { ProposalJobs } from "./proposals.js";
import { declaredNames, secretsView } from "./secrets-view.js";
import { serverView } from "./server-view.js";
import { StaticAssets, consoleAssetsDir } from "./static-assets.js";
import { tryTool } from "./try-tool.js";

/** Claude Desktop's entry for this registry (made by the CLI, which knows how it was started). */
export interface DesktopSnippet {
  /** The claude_desktop_config.json text with the `mcp-router stdio` entry. */
  config: string;
  /** The command that merges it into Claude Desktop's config. */
  install: string;
}

export interface ConsoleOptions {
  gateway: Gateway;
  logger: Logger;
  /** The keys the bearer check accepts; undefined = auth off (loopback only). */
  apiKeys: readonly string[] | undefined;
  /** The sync status the daemon keeps (what `/status` serves), and its change feed. */
  status(): SyncStatus;
  onStatus(listener: (status: SyncStatus) => void): () => void;
  /** Everything granted to servers (the console's store first, then the operator's). */
  secrets: SecretSource;
  /** Where the console writes secrets; without it the secrets page is read-only. */
  secretStore?: WritableSecretStore;
  /** A value was set (the scrubber must learn it) or removed: the registry is checked again. */
  onSecretsChanged?(value?: string): void;
  recentCalls: RecentCalls;
  /** Where registry `file` paths resolve. */
  registryRoot: string | undefined;
  /** A session unused this long ends (default 30 minutes). */
  idleMs?: number;
  /** A proxy in front terminates TLS: its `X-Forwarded-Proto: https` makes the cookie Secure. */
  trustProxy?: boolean;
  /** An idle event stream gets a comment this often (default 25 s). */
  keepAliveMs?: number;
  /** What a draft registry file is checked against: the daemon's policy and grants. */
  checks?: DraftChecks;
  /** The registry is a folder the daemon follows (a draft can be written into it), not a git remote. */
  registryWritable?: boolean;
  /** GitHub and Anthropic for proposing a file from a repository URL (default: GitHub without a token, heuristics only). */
  proposer?: ProposerSettings;
  /** The daemon's metrics, for the Metrics page. */
  metrics?: GatewayMetrics;
  /** How often calls are sampled for the calls-per-minute chart (default 10 s). */
  metricsSampleMs?: number;
  /** The Connect page's Claude Desktop entry, when the CLI could make one. */
  desktop?: DesktopSnippet;
  /** The console's own files (default: web/console of this package). */
  assetsDir?: string;
}

export interface WebConsole {
  routes: Record<string, { method: string; public?: boolean; handle(req: IncomingMessage, res: ServerResponse): Promise<void> }>;
  prefixRoutes: PrefixRoute[];
  readonly sessions: ConsoleSessions;
  close(): void;
}

const API = "/api/console/";
const MAX_BODY_BYTES = 1024 * 1024;

export function createConsole(options: ConsoleOptions): WebConsole {
  const log = options.logger.child({ component: "console" });
  const idleMs = options.idleMs ?? DEFAULT_CONSOLE_IDLE_MS;
  const sessions = new ConsoleSessions({ idleMs });
  const assets = new StaticAssets(options.assetsDir ?? consoleAssetsDir());
  const live = new OverviewStream({ status: options.status, onStatus: options.onStatus, holder: options.gateway.holder, ...(options.keepAliveMs !== undefined ? { keepAliveMs: options.keepAliveMs } : {}) });
  const proposals = new ProposalJobs(options.proposer ?? {}, log);
  const sampler = options.metrics ? new MetricsSampler(options.metrics, options.metricsSampleMs ?? 10_000) : undefined;

  function session(req: IncomingMessage, use = true): ConsoleSession {
    const id = cookieValue(req, SESSION_COOKIE);
    const found = use ? sessions.touch(id) : sessions.peek(id);
    if (found) return found;
    if (id === undefined) throw new ConsoleError(401, "SIGNED_OUT", "you are not signed in", "Sign in with an API key.");
    throw new ConsoleError(401, "SESSION_EXPIRED", `your console session has ended (signed out, or unused for ${Math.round(idleMs / 60_000)} minutes, or the daemon restarted)`, "Sign in again; nothing you were editing is lost.");
  }

  /** A state-changing request: the session, its CSRF token, a JSON body. */
  async function changing(req: IncomingMessage): Promise<{ session: ConsoleSession; body: Record<string, unknown> }> {
    const current = session(req);
    const token = req.headers[CSRF_HEADER];
    if (!csrfMatches(current, Array.isArray(token) ? token[0] : token)) {
      throw new ConsoleError(403, "CSRF_TOKEN_INVALID", `this request has ${token === undefined ? "no" : "a wrong"} CSRF token`, `Send the session's token (from GET ${API}session) in the ${CSRF_HEADER} header; reload the console page if it came from an old tab.`);
    }
    return { session: current, body: await jsonBody(req) };
  }

  async function signIn(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await jsonBody(req);
    const key = typeof body.key === "string" ? body.key.trim() : "";
    let principal: Principal = ANONYMOUS_PRINCIPAL;
    if (options.apiKeys !== undefined) {
      if (key === "") throw new ConsoleError(400, "KEY_MISSING", "no API key given", "Paste one of the daemon's API keys (MCP_ROUTER_API_KEYS, --api-keys-file, or the key `serve` generated into <data dir>/api-key).");
      if (!bearerMatches(`Bearer ${key}`, options.apiKeys)) {
        log.warn({ status: 401 }, "console sign-in with a key the daemon does not accept");
        throw new ConsoleError(401, "KEY_REFUSED", "that API key is not one the daemon accepts", "Check for a missing character; keys are those the gateway's bearer check accepts.");
      }
      principal = apiKeyPrincipal(apiKeyId(key));
    }
    const created = sessions.create(principal);
    log.info({ principal: principal.id }, "console sign-in");
    sendJson(res, 200, sessionBody(created), { "set-cookie": sessionCookie(created.id, overHttps(req, options.trustProxy ?? false)) });
  }

  function sessionBody(s: ConsoleSession): Record<string, unknown> {
    return { signedIn: true, authRequired: options.apiKeys !== undefined, principal: s.principal.id, csrfToken: s.csrfToken, idleSeconds: Math.round(idleMs / 1000) };
  }

  function secretSources(store: WritableSecretStore) {
    return { status: options.status(), table: options.gateway.holder.current(), registryRoot: options.registryRoot, secrets: options.secrets, store };
  }

  /** Set, replace or remove one declared secret in the console's store: write-only, never logged. */
  async function changeSecret(req: IncomingMessage, res: ServerResponse, name: string, method: "PUT" | "DELETE"): Promise<void> {
    const { session: current, body } = await changing(req);
    const store = options.secretStore;
    if (!store) throw new ConsoleError(409, "SECRETS_READ_ONLY", "this daemon has no console secret store", "Grant secrets with --secrets-file, --secrets-dir or MCP_ROUTER_SECRET_<NAME>.");
    if (!(await declaredNames(secretSources(store))).has(name)) {
      throw new ConsoleError(404, "SECRET_NOT_DECLARED", `no registry file reads a secret named ${name}`, "Only names a server file declares can be set; check the spelling against the server's page.");
    }
    try {
      if (method === "PUT") {
        if (typeof body.value !== "string") throw new ConsoleError(400, "SECRET_VALUE_MISSING", `no value for ${name}`, 'Send {"value": "..."}.');
        await store.set(name, body.value);
        options.onSecretsChanged?.(body.value);
        log.info({ secret: name, principal: current.principal.id }, "console: secret set");
        return sendJson(res, 200, { name, set: true, source: "console" });
      }
      if (!(await store.remove(name))) {
        throw new ConsoleError(404, "SECRET_NOT_IN_CONSOLE_STORE", `${name} has no value in the console's store`, "A value the operator granted (--secrets-file, --secrets-dir, MCP_ROUTER_SECRET_*) is changed where it was granted.");
      }
      options.onSecretsChanged?.();
      log.info({ secret: name, principal: current.principal.id }, "console: secret removed");
      return sendJson(res, 200, { name, set: options.secrets.get(name) !== undefined });
    } catch (error) {
      if (error instanceof SecretStoreError) throw new ConsoleError(400, error.code, error.message, error.hint);
      throw error;
    }
  }

  async function api(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const route = url.pathname.slice(API.length).replace(/\/+$/, "");
    const method = req.method ?? "GET";
    if (route === "session") {
      if (method === "POST") return signIn(req, res);
      if (method === "GET") {
        const id = cookieValue(req, SESSION_COOKIE);
        const current = sessions.touch(id);
        return sendJson(res, 200, current ? sessionBody(current) : { signedIn: false, authRequired: options.apiKeys !== undefined, ...(id !== undefined ? { expired: true } : {}) });
      }
      if (method === "DELETE") {
        const { session: current } = await changing(req);
        sessions.end(current.id);
        log.info({ principal: current.principal.id }, "console sign-out");
        res.writeHead(204, { ...SECURITY_HEADERS, "set-cookie": sessionCookie("", overHttps(req, options.trustProxy ?? false), 0) }).end();
        return;
      }
    }
    if (route === "overview" && method === "GET") {
      session(req);
      return sendJson(res, 200, live.overview());
    }
    if (route === "events" && method === "GET") {
      const current = session(req);
      return live.open(req, res, (end) => sessions.onEnd(current.id, end));
    }
    const server = /^servers\/([^/]+)$/.exec(route);
    if (server?.[1] && method === "GET") {
      session(req);
      const prefix = decode(server[1]);
      const view = await serverView(prefix, {
        status: options.status(),
        table: options.gateway.holder.current(),
        registryRoot: options.registryRoot,
        secrets: options.secrets,
        recentCalls: (p) => options.recentCalls.of(p),
      });
      if (!view) throw new ConsoleError(404, "NO_SUCH_SERVER", `no server "${prefix}" in the registry`, "Pick one from the overview.");
      return sendJson(res, 200, view);
    }
    if ((route === "drafts/check" || route === "drafts/write") && method === "POST") {
      const { session: current, body } = await changing(req);
      if (typeof body.text !== "string") throw new ConsoleError(400, "DRAFT_TEXT_MISSING", "no file text", 'Send {"text": "<the YAML>", "editing": "<prefix, when editing>"}.');
      const editing = typeof body.editing === "string" ? body.editing : undefined;
      const sources = { registryRoot: options.registryRoot, checks: options.checks ?? { policy: DEFAULT_POLICY, grants: { has: (n: string) => options.secrets.get(n) !== undefined, howToGrant: () => "" } }, status: options.status(), table: options.gateway.holder.current() };
      if (route === "drafts/check") return sendJson(res, 200, await checkDraft(body.text, editing, sources));
      const result = await writeDraft(body.text, editing, { ...sources, writable: options.registryWritable === true });
      if (result.valid) log.info({ file: result.file, principal: current.principal.id }, "console: registry file written");
      return sendJson(res, result.valid ? 200 : 422, { ...result, written: result.valid });
    }
    if (route === "proposals" && method === "POST") {
      const { session: current, body } = await changing(req);
      if (typeof body.url !== "string" || body.url.trim() === "") throw new ConsoleError(400, "PROPOSAL_BAD_URL", "no repository URL", "Paste a GitHub repository URL, e.g. https://github.com/owner/repo.");
      const job = await proposals.start(body.url.trim(), current.principal.id);
      log.info({ url: job.url, principal: current.principal.id }, "console: proposal started");
      return sendJson(res, 202, job);
    }
    const proposal = /^proposals\/([^/]+)$/.exec(route);
    if (proposal?.[1] && method === "GET") {
      const job = proposals.get(decode(proposal[1]), session(req).principal.id);
      if (!job) throw new ConsoleError(404, "NO_SUCH_PROPOSAL", "no such proposal (they are kept 30 minutes, for the key that started them)", "Start it again from the Add a server page.");
      return sendJson(res, 200, job);
    }
    if (route === "metrics" && method === "GET") {
      session(req);
      if (!sampler) throw new ConsoleError(404, "NO_METRICS", "this daemon keeps no metrics");
      return sendJson(res, 200, await sampler.view());
    }
    if (route === "connect" && method === "GET") {
      session(req);
      return sendJson(res, 200, { authRequired: options.apiKeys !== undefined, ...(options.desktop ? { desktop: options.desktop } : {}) });
    }
    if (route === "secrets" && method === "GET") {
      session(req);
      return sendJson(res, 200, { writable: options.secretStore !== undefined, secrets: options.secretStore ? await secretsView(secretSources(options.secretStore)) : [] });
    }
    const secret = /^secrets\/([^/]+)$/.exec(route);
    if (secret?.[1] && (method === "PUT" || method === "DELETE")) return changeSecret(req, res, decode(secret[1]), method);
    const call = /^servers\/([^/]+)\/tools\/([^/]+)\/call$/.exec(route);
    if (call?.[1] && call[2] && method === "POST") {
      const { session: current, body } = await changing(req);
      const args = body.arguments ?? {};
      if (typeof args !== "object" || args === null || Array.isArray(args)) {
        throw new ConsoleError(400, "BAD_ARGUMENTS", "`arguments` must be a JSON object", "Send {\"arguments\": {...}} with the tool's input as an object.");
      }
      const aborted = new AbortController();
      res.once("close", () => aborted.abort(new Error("the browser left before the call ended")));
      const outcome = await tryTool(options.gateway, { prefix: decode(call[1]), tool: decode(call[2]), arguments: args as Record<string, unknown>, principal: current.principal, signal: aborted.signal });
      return sendJson(res, 200, outcome);
    }
    throw new ConsoleError(404, "NO_SUCH_ROUTE", `no console endpoint ${method} ${url.pathname}`, "The console's API is what its pages call; see docs/console.md.");
  }

  const guarded =
    (handle: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>) =>
    async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
      try {
        await handle(req, res, url);
      } catch (error) {
        if (error instanceof ConsoleError) return sendError(res, error);
        if (error instanceof HttpError) return sendError(res, new ConsoleError(error.status, "BAD_REQUEST", error.message));
        throw error;
      }
    };

  return {
    routes: {
      "/": { method: "GET", public: true, handle: async (req, res) => void (await assets.serve(req, res, "index.html")) },
    },
    prefixRoutes: [
      {
        prefix: "/ui/",
        public: true,
        handle: guarded(async (req, res, url) => {
          if (!(await assets.serve(req, res, decode(url.pathname.slice("/ui/".length))))) throw new ConsoleError(404, "NO_SUCH_FILE", `no console file ${url.pathname}`);
        }),
      },
      // The console authenticates its API itself (a session opened with an API key), not with a bearer header.
      { prefix: API, public: true, handle: guarded(api) },
      {
        prefix: REGISTRY_API_PREFIX,
        public: true,
        handle: (req, res, url) => {
          const bearer = options.apiKeys === undefined || bearerMatches(req.headers.authorization, options.apiKeys);
          if (!bearer && !sessions.touch(cookieValue(req, SESSION_COOKIE))) {
            res
              .writeHead(401, { ...SECURITY_HEADERS, "content-type": "application/json; charset=utf-8", "www-authenticate": 'Bearer realm="mcp-router"' })
              .end(JSON.stringify({ error: req.headers.authorization ? "invalid API key" : "missing bearer token: send Authorization: Bearer <api key> (or sign in to the console)" }));
            return;
          }
          serveRegistryApi(req, res, url, { table: options.gateway.holder.current(), status: options.status() });
        },
      },
    ],
    sessions,
    close() {
      live.close();
      sampler?.close();
      sessions.close();
    },
  };
}

async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const type = req.headers["content-type"] ?? "";
  if (!/^application\/json\b/i.test(type)) throw new ConsoleError(415, "JSON_REQUIRED", "the console API takes JSON bodies", "Send Content-Type: application/json.");
  const body = await readJsonBody(req, MAX_BODY_BYTES).catch((error: unknown) => {
    if (error instanceof HttpError && error.status === 400) throw new ConsoleError(400, "BAD_JSON", "the request body is not valid JSON", "Send one JSON object.");
    throw error;
  });
  if (body === undefined) return {};
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new ConsoleError(400, "BAD_BODY", "the body must be a JSON object");
  return body as Record<string, unknown>;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ConsoleError(400, "BAD_PATH", `"${segment}" is not valid percent-encoding`);
  }
}
