/**
 * Finds an authorization server's metadata from its issuer URL, the way MCP clients do: RFC 8414
 * (`/.well-known/oauth-authorization-server`, path inserted), then OpenID Connect Discovery
 * (`/.well-known/openid-configuration`, path inserted, then appended). The document must name the
 * same issuer, exactly, and a `jwks_uri`: anything else is a configuration mistake, said as one.
 */
export interface IssuerMetadata {
  issuer: string;
  jwks_uri: string;
  [field: string]: unknown;
}

export class IssuerDiscoveryError extends Error {
  override readonly name = "IssuerDiscoveryError";
}

/** The metadata URLs to try for an issuer, in the MCP specification's order. */
export function discoveryUrls(issuer: string): URL[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, "");
  const at = (wellKnown: string) => new URL(`${url.origin}/.well-known/${wellKnown}${path}`);
  return path === ""
    ? [at("oauth-authorization-server"), at("openid-configuration")]
    : [at("oauth-authorization-server"), at("openid-configuration"), new URL(`${url.origin}${path}/.well-known/openid-configuration`)];
}

export async function discoverIssuer(issuer: string, fetchImpl: typeof fetch = fetch, timeoutMs = 5000): Promise<IssuerMetadata> {
  const tried: string[] = [];
  for (const url of discoveryUrls(issuer)) {
    let res: Response;
    try {
      res = await fetchImpl(url, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(timeoutMs), redirect: "error" });
    } catch (error) {
      tried.push(`${url.href}: ${(error as Error).message}`);
      continue;
    }
    if (!res.ok) {
      tried.push(`${url.href}: HTTP ${res.status}`);
      await res.body?.cancel();
      continue;
    }
    const doc = (await res.json().catch(() => undefined)) as Partial<IssuerMetadata> | undefined;
    if (!doc || typeof doc !== "object") {
      tried.push(`${url.href}: not a JSON object`);
      continue;
    }
    if (doc.issuer !== issuer) {
      throw new IssuerDiscoveryError(
        `the metadata at ${url.href} names the issuer ${JSON.stringify(doc.issuer)}, not ${JSON.stringify(issuer)}; give --oauth-issuer exactly as the server's metadata spells it (trailing slash included)`,
      );
    }
    if (typeof doc.jwks_uri !== "string") throw new IssuerDiscoveryError(`the metadata at ${url.href} has no jwks_uri: tokens from ${issuer} cannot be checked`);
    return doc as IssuerMetadata;
  }
  throw new IssuerDiscoveryError(`no authorization server metadata for ${issuer} (${tried.join("; ")}); check --oauth-issuer and that the issuer is reachable from the gateway`);
}
