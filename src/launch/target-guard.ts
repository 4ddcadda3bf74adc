/**
 * Connections the daemon opens for a registry file (remote servers, OpenAPI specs and calls, the
 * egress proxy's targets) go to public addresses only, unless the operator policy allows private
 * targets. The check runs on the addresses a name resolves to, right before connecting, so a
 * public-looking name that resolves to 169.254.169.254 or 127.0.0.1 is refused, and a redirect
 * to one is refused too.
 */
import { lookup as dnsLookup } from "node:dns";
import type { LookupAddress } from "node:dns";
import { isIP } from "node:net";
import type { LookupFunction } from "node:net";
import { Agent, buildConnector, fetch as undiciFetch } from "undici";
import { isNonPublicAddress } from "../registry/address-ranges.js";

/** Code on the error of a refused connection. */
export const TARGET_REFUSED = "ETARGETREFUSED";

export function targetRefused(host: string, addresses: readonly string[]): Error {
  const shown = addresses.length && addresses[0] !== host ? ` (${addresses.join(", ")})` : "";
  return Object.assign(new Error(`${host}${shown} is a loopback, private or link-local address, which the operator policy does not allow (network.privateTargets)`), { code: TARGET_REFUSED });
}

/** A `dns.lookup` that drops non-public addresses and fails when none is left. */
export const publicLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, found: LookupAddress[]) => {
    if (error) return callback(error, "", 0);
    const usable = found.filter((a) => !isNonPublicAddress(a.address));
    if (usable.length === 0) return callback(targetRefused(hostname, found.map((a) => a.address)), "", 0);
    if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, usable);
    const first = usable[0] as LookupAddress;
    callback(null, first.address, first.family);
  });
};

/** The refusal for a literal address (a lookup never runs for those), or undefined. */
export function literalRefusal(host: string): Error | undefined {
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  return isIP(bare) && isNonPublicAddress(bare) ? targetRefused(bare, []) : undefined;
}

/** An undici dispatcher that connects to public addresses only. */
export function publicOnlyDispatcher(): Agent {
  const connector = buildConnector({ lookup: publicLookup } as buildConnector.BuildOptions);
  return new Agent({
    connect: (options, callback) => {
      const refused = literalRefusal(options.hostname);
      if (refused) return callback(refused, null);
      connector(options, callback);
    },
  });
}

/** A `fetch` for the MCP SDK's client transports that connects to public addresses only. */
export function publicOnlyFetch(): typeof fetch {
  const dispatcher = publicOnlyDispatcher();
  return ((input: Parameters<typeof fetch>[0], init?: RequestInit) => undiciFetch(input as never, { ...(init as object), dispatcher } as never)) as unknown as typeof fetch;
}
