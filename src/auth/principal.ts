/**
 * Who a request acts for, decided once at the edge (the HTTP bearer check, or stdio's own process)
 * and carried to every handler, the policy, the rate limits and the audit line. Never holds a
 * credential: an API key is named by the first 8 hex chars of its sha256, a token by its subject.
 */
export type Principal =
  /** A bearer API key of the daemon's. */
  | { readonly kind: "api-key"; readonly id: string; readonly keyId: string }
  /** A validated OAuth access token (a JWT from the configured issuer). */
  | {
      readonly kind: "oauth";
      readonly id: string;
      readonly subject: string;
      readonly issuer: string;
      readonly scopes: readonly string[];
      /** The values of the configured groups claim (`groups` by default; `roles` is common). */
      readonly groups: readonly string[];
      readonly clientId?: string;
      /** Seconds since the epoch when the token expires. */
      readonly expiresAt: number;
    }
  /** The operator's own process over stdio: it could read the registry and the secrets anyway. */
  | { readonly kind: "local"; readonly id: "stdio" }
  /** Auth is off (`--no-auth`, loopback only): every caller is the same nobody. */
  | { readonly kind: "anonymous"; readonly id: "anonymous" };

export const LOCAL_PRINCIPAL: Principal = Object.freeze({ kind: "local", id: "stdio" });
export const ANONYMOUS_PRINCIPAL: Principal = Object.freeze({ kind: "anonymous", id: "anonymous" });

export function apiKeyPrincipal(keyId: string): Principal {
  return { kind: "api-key", id: `key:${keyId}`, keyId };
}

/** What the audit line's `key` field has always said: the key id, `stdio`, `none` (auth off) or `oauth`. */
export function auditKeyOf(principal: Principal): string {
  switch (principal.kind) {
    case "api-key":
      return principal.keyId;
    case "local":
      return "stdio";
    case "anonymous":
      return "none";
    case "oauth":
      return "oauth";
  }
}
