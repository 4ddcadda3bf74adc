/**
 * Validates OAuth access tokens as the MCP authorization specification requires of a resource
 * server: a JWT signed by a key of the issuer's JWKS (found through its metadata, fetched once and
 * cached by jose, refetched when a token names an unknown key), from exactly that issuer, not
 * expired, and issued for this gateway (its `aud` is one of the gateway's resource URLs, RFC 8707).
 * Required scopes are checked separately, so a good token with too little scope is a 403, not a 401.
 *
 * Opaque (non-JWT) tokens are not accepted: introspection is not implemented.
 */
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from "jose";
import type { JWTPayload } from "jose";
import type { Principal } from "./principal.js";
import { discoverIssuer } from "./issuer-discovery.js";

export interface OAuthVerifierOptions {
  /** The issuer URL, exactly as its metadata spells it. */
  issuer: string;
  /** The claim holding the caller's groups or roles (default `groups`). */
  groupsClaim?: string;
  /** Seconds of clock skew tolerated on `exp` / `nbf` (default 30). */
  clockToleranceSeconds?: number;
  /** Metadata and JWKS fetches (tests inject nothing; the default is the global fetch). */
  fetch?: typeof fetch;
}

export type OAuthPrincipal = Extract<Principal, { kind: "oauth" }>;

/** Why a token was refused: `invalid_token` (401) or the issuer unreachable (503). */
export class TokenRefused extends Error {
  override readonly name = "TokenRefused";
  constructor(
    readonly status: 401 | 503,
    message: string,
  ) {
    super(message);
  }
}

/** Asymmetric algorithms only: a shared-secret (HS*) token could be minted by anyone holding the secret. */
const ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"];

/** Verified tokens kept for their remaining life (at most this long) so a client's every request does not pay a signature check. */
const CACHE_MS = 60_000;
const CACHE_ENTRIES = 10_000;

export class OAuthTokenVerifier {
  readonly issuer: string;
  readonly #options: OAuthVerifierOptions;
  #keys: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;
  /** token -> its principal and until when the answer holds; only tokens that verified, bounded. */
  readonly #verified = new Map<string, { principal: OAuthPrincipal; audiences: readonly string[]; until: number }>();

  constructor(options: OAuthVerifierOptions) {
    this.#options = options;
    this.issuer = options.issuer;
  }

  /** The issuer's key set, discovered on first use; a failed discovery is tried again on the next token. */
  #keySet(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    this.#keys ??= discoverIssuer(this.issuer, this.#options.fetch).then(
      (metadata) => createRemoteJWKSet(new URL(metadata.jwks_uri), { cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000, timeoutDuration: 5000 }),
      (error: unknown) => {
        this.#keys = undefined;
        throw new TokenRefused(503, `cannot check the token: ${(error as Error).message}`);
      },
    );
    return this.#keys;
  }

  /** Fetches the issuer's metadata now (at start), so a misconfigured issuer shows in the log before the first client. */
  async warmUp(): Promise<void> {
    await this.#keySet();
  }

  /**
   * The principal a token stands for, if it is valid for one of `audiences` (the gateway's resource
   * URLs for the endpoint asked). Throws TokenRefused.
   */
  async verify(token: string, audiences: readonly string[]): Promise<OAuthPrincipal> {
    const now = Date.now();
    const hit = this.#verified.get(token);
    if (hit && hit.until > now && hit.audiences.some((a) => audiences.includes(a))) return hit.principal;
    if (token.split(".").length !== 3) throw new TokenRefused(401, "the bearer token is neither an API key nor a JWT access token");
    const keys = await this.#keySet();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: this.issuer,
        audience: [...audiences],
        algorithms: ALGORITHMS,
        requiredClaims: ["exp", "sub"],
        clockTolerance: this.#options.clockToleranceSeconds ?? 30,
      }));
    } catch (error) {
      throw refusal(error);
    }
    const principal = this.#principalOf(payload);
    const tokenAudiences = typeof payload.aud === "string" ? [payload.aud] : (payload.aud ?? []);
    if (this.#verified.size >= CACHE_ENTRIES) this.#verified.clear();
    this.#verified.set(token, { principal, audiences: tokenAudiences.filter((a) => audiences.includes(a)), until: Math.min(now + CACHE_MS, principal.expiresAt * 1000) });
    return principal;
  }

  #principalOf(payload: JWTPayload): OAuthPrincipal {
    const subject = String(payload.sub);
    const clientId = typeof payload.client_id === "string" ? payload.client_id : typeof payload.azp === "string" ? payload.azp : undefined;
    return Object.freeze({
      kind: "oauth",
      id: `oauth:${subject}`,
      subject,
      issuer: this.issuer,
      scopes: Object.freeze(stringsOf(payload.scope ?? payload.scp)),
      groups: Object.freeze(stringsOf(payload[this.#options.groupsClaim ?? "groups"])),
      ...(clientId ? { clientId } : {}),
      expiresAt: Number(payload.exp),
    });
  }
}

/** A claim that is a space-separated string (`scope`) or a list of strings (`scp`, `groups`). */
function stringsOf(value: unknown): string[] {
  if (typeof value === "string") return value.split(" ").filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  return [];
}

/** jose's error as the client should read it: what was wrong, never the token. */
function refusal(error: unknown): TokenRefused {
  if (error instanceof joseErrors.JWTExpired) return new TokenRefused(401, "the access token has expired; get a new one (refresh it)");
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case "aud":
        return new TokenRefused(401, "the access token was not issued for this gateway (audience); request it with this gateway's URL as the resource parameter");
      case "iss":
        return new TokenRefused(401, "the access token comes from another issuer than the one this gateway trusts");
      default:
        return new TokenRefused(401, `the access token's "${error.claim}" claim is not acceptable: ${error.reason}`);
    }
  }
  if (error instanceof joseErrors.JWKSTimeout) return new TokenRefused(503, "cannot check the token: the issuer's key set did not answer in time");
  if (error instanceof joseErrors.JWKSNoMatchingKey) return new TokenRefused(401, "the access token is not signed by a key of the trusted issuer");
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return new TokenRefused(401, "the access token's signature does not verify");
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return new TokenRefused(401, "the access token is signed with an algorithm this gateway does not accept (asymmetric only)");
  if (error instanceof joseErrors.JOSEError) return new TokenRefused(401, "the access token is malformed");
  return new TokenRefused(503, `cannot check the token: ${(error as Error).message}`);
}
