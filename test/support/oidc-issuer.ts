/**
 * A real OpenID provider for the tests (`oidc-provider`, the certified implementation), on a port
 * of its own: clients get JWT access tokens for a resource (RFC 8707) through the client
 * credentials grant (the token's `sub` is the client id, its `groups` claim what the test gave
 * the client). Its signing key is the test's too, so a test can mint the tokens a provider would
 * never issue: expired ones.
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { JWK } from "jose";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import Provider from "oidc-provider";

export interface IssuerClient {
  id: string;
  groups?: string[];
}

export interface TestIssuer {
  readonly issuer: string;
  /** A JWT access token for `resource`, as the provider issues it. */
  token(clientId: string, resource: string, scope?: string): Promise<string>;
  /** A token signed with the provider's own key, with any claims (e.g. long expired). */
  mint(claims: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export const CLIENT_SECRET = "test-client-secret-0123456789abcdef";

/** `alg`: how the provider signs its tokens (ES256 by default; RS256 is what most identity providers use). */
export async function startTestIssuer(clients: readonly IssuerClient[], scopes = "mcp extra", alg: "ES256" | "RS256" = "ES256"): Promise<TestIssuer> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk: JWK = { ...(await exportJWK(privateKey)), kid: `test-key-${randomUUID().slice(0, 8)}`, alg, use: "sig" };
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const groups = new Map(clients.map((c) => [c.id, c.groups ?? []]));
  const provider = new Provider(issuer, {
    clients: clients.map((c) => ({ client_id: c.id, client_secret: CLIENT_SECRET, grant_types: ["client_credentials"], response_types: [], redirect_uris: [], scope: scopes, id_token_signed_response_alg: alg })),
    jwks: { keys: [jwk] },
    scopes: scopes.split(" "),
    ttl: { ClientCredentials: 600 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => ({ scope: scopes, audience: resource, accessTokenFormat: "jwt", jwt: { sign: { alg } } }),
      },
    },
    extraTokenClaims: (_ctx: unknown, token: { clientId?: string }) => ({ groups: groups.get(token.clientId ?? "") ?? [] }),
  });
  server.on("request", provider.callback());
  return {
    issuer,
    async token(clientId, resource, scope = "mcp") {
      const res = await fetch(`${issuer}/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${Buffer.from(`${clientId}:${CLIENT_SECRET}`).toString("base64")}` },
        body: new URLSearchParams({ grant_type: "client_credentials", resource, scope }).toString(),
      });
      const body = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
      if (!body.access_token) throw new Error(`the test issuer refused a token: ${body.error} ${body.error_description}`);
      return body.access_token;
    },
    async mint(claims) {
      return new SignJWT(claims).setProtectedHeader({ alg, kid: jwk.kid!, typ: "at+jwt" }).sign(privateKey);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
