/**
 * The bearer check of the HTTP edge, one step for every protected route: who is calling, as a
 * Principal, or why not, as the answer RFC 6750 and the MCP authorization specification ask for.
 *
 * A bearer is first compared with the API keys (constant time); when an OAuth issuer is
 * configured, anything else is validated as its access token for this gateway (RFC 8707: the
 * token's audience is the gateway's URL, its `/mcp`, or the per-server endpoint asked). Refusals
 * carry `WWW-Authenticate: Bearer resource_metadata="…"` pointing at the endpoint's Protected
 * Resource Metadata (RFC 9728), served here too, so a client can discover where to sign in.
 */
import type { Principal } from "../auth/principal.js";
import { ANONYMOUS_PRINCIPAL, apiKeyPrincipal } from "../auth/principal.js";
import { apiKeyMatcher } from "../auth/api-keys.js";
import type { OAuthTokenVerifier } from "../auth/oauth-token-verifier.js";
import { TokenRefused } from "../auth/oauth-token-verifier.js";

export const PROTECTED_RESOURCE_PATH = "/.well-known/oauth-protected-resource";

export interface OAuthResourceSettings {
  verifier: OAuthTokenVerifier;
  /** Scopes every token must carry (403 `insufficient_scope` otherwise); also `scopes_supported`. */
  requiredScopes?: readonly string[];
  /** The gateway's URL as clients reach it (behind a proxy); default the bound address. */
  publicUrl?: string;
}

/** A refused request: its status, a message for the body, and the headers that say how to authenticate. */
export class AuthRefused extends Error {
  override readonly name = "AuthRefused";
  constructor(
    readonly status: 401 | 403 | 503,
    message: string,
    readonly headers: Record<string, string>,
  ) {
    super(message);
  }
}

export interface HttpAuthenticator {
  /** Whether requests need a bearer at all (false: `--no-auth` on loopback). */
  readonly required: boolean;
  readonly oauth: boolean;
  /** The principal of a request to `path`; throws AuthRefused. */
  authenticate(authorization: string | undefined, path: string): Promise<Principal>;
  /** The Protected Resource Metadata served at a well-known path, if that path is one. */
  metadata(path: string): Record<string, unknown> | undefined;
  /** Called once the bound address is known: the default public URL. */
  bind(url: URL): void;
}

/** The MCP endpoints a token may be issued for (each has its own metadata document). */
function isMcpEndpoint(path: string): boolean {
  return path === "/mcp" || /^\/servers\/[^/]+\/mcp$/.test(path);
}

export function createHttpAuthenticator(apiKeys: readonly string[] | undefined, oauth: OAuthResourceSettings | undefined): HttpAuthenticator {
  const matchKey = apiKeyMatcher(apiKeys ?? []);
  const required = apiKeys !== undefined || oauth !== undefined;
  const scopes = oauth?.requiredScopes ?? [];
  let base = oauth?.publicUrl?.replace(/\/+$/, "") ?? "";

  /** The resource a path belongs to: its MCP endpoint, else the gateway as a whole. */
  const resourceOf = (path: string): string => (isMcpEndpoint(path) ? `${base}${path}` : base);
  const metadataUrl = (path: string): string => `${base}${PROTECTED_RESOURCE_PATH}${isMcpEndpoint(path) ? path : ""}`;
  const quote = (value: string) => `"${value.replace(/["\\]/g, "")}"`;
  const challenge = (path: string, error?: { code: "invalid_token" | "insufficient_scope"; description: string }): Record<string, string> => {
    if (!oauth) return { "www-authenticate": 'Bearer realm="mcp-router"' };
    const params = [`resource_metadata=${quote(metadataUrl(path))}`];
    if (scopes.length > 0) params.push(`scope=${quote(scopes.join(" "))}`);
    if (error) params.push(`error=${quote(error.code)}`, `error_description=${quote(error.description)}`);
    return { "www-authenticate": `Bearer ${params.join(", ")}` };
  };

  return {
    required,
    oauth: oauth !== undefined,
    bind(url) {
      if (!base) base = url.href.replace(/\/+$/, "");
    },
    async authenticate(authorization, path) {
      if (!required) return ANONYMOUS_PRINCIPAL;
      const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1];
      if (!token) {
        const how = oauth ? "send Authorization: Bearer <API key or access token>; the resource_metadata in WWW-Authenticate says where to get a token" : "send Authorization: Bearer <api key>";
        throw new AuthRefused(401, `missing bearer token: ${how}`, challenge(path));
      }
      const keyId = matchKey(token);
      if (keyId !== undefined) return apiKeyPrincipal(keyId);
      if (!oauth) throw new AuthRefused(401, "invalid API key", challenge(path));
      let principal;
      try {
        principal = await oauth.verifier.verify(token, [...new Set([base, `${base}/mcp`, resourceOf(path)])]);
      } catch (error) {
        if (!(error instanceof TokenRefused)) throw error;
        if (error.status === 503) throw new AuthRefused(503, error.message, { "retry-after": "5" });
        throw new AuthRefused(401, error.message, challenge(path, { code: "invalid_token", description: error.message }));
      }
      const missing = scopes.filter((s) => !principal.scopes.includes(s));
      if (missing.length > 0) {
        const message = `the access token lacks the scope(s) ${missing.join(", ")}; sign in again asking for them`;
        throw new AuthRefused(403, message, challenge(path, { code: "insufficient_scope", description: message }));
      }
      return principal;
    },
    metadata(path) {
      if (!oauth || !path.startsWith(PROTECTED_RESOURCE_PATH)) return undefined;
      const rest = path.slice(PROTECTED_RESOURCE_PATH.length);
      if (rest !== "" && !isMcpEndpoint(rest)) return undefined;
      return {
        resource: `${base}${rest}`,
        authorization_servers: [oauth.verifier.issuer],
        bearer_methods_supported: ["header"],
        ...(scopes.length > 0 ? { scopes_supported: [...scopes] } : {}),
        resource_name: "mcp-router",
      };
    },
  };
}
