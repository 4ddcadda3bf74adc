/**
 * The lists a caller sees under the access policy: the scope's tools, prompts, resources and
 * templates, minus what no grant of theirs covers. Filtered once per (immutable) list and set of
 * grants, then reused, so a `tools/list` of a restricted caller costs what an open one does.
 * Checks of a single call (and the error naming the missing grant) are `requireAccess`.
 */
import type { Prompt, Resource, ResourceTemplate, Tool } from "@modelcontextprotocol/sdk/types.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import type { Access, AccessKind } from "../auth/access-policy.js";
import { AccessPolicy } from "../auth/access-policy.js";
import type { Principal } from "../auth/principal.js";
import type { RateRefusal } from "../auth/rate-limiter.js";
import type { RoutingTable } from "./routing-table.js";
import { splitUri } from "./routing-table.js";

/** A JSON-RPC error in the implementation-defined server range: the access policy refused the request. */
export const ACCESS_DENIED = -32040;
/** The same range: a rate limit of the access policy refused the call; `data.retryAfterSeconds` says when to try again. */
export const RATE_LIMITED = -32041;


const filtered = new WeakMap<readonly object[], Map<string, readonly object[]>>();

/** `items` minus those the caller may not use; the same array when nothing is restricted. */
export function visible<T extends object>(items: readonly T[], access: Access, kind: AccessKind, origin: (item: T) => { prefix: string; name: string } | undefined): readonly T[] {
  if (access.unrestricted) return items;
  let byKey = filtered.get(items);
  if (!byKey) {
    byKey = new Map();
    filtered.set(items, byKey);
  }
  let shown = byKey.get(access.key) as readonly T[] | undefined;
  if (!shown) {
    shown = Object.freeze(
      items.filter((item) => {
        const from = origin(item);
        return from !== undefined && access.allows(kind, from.prefix, from.name);
      }),
    );
    byKey.set(access.key, shown);
  }
  return shown;
}

/** Where the aggregated (`/mcp`) lists' items come from. */
export function aggregateOrigins(table: RoutingTable): {
  tool(tool: Tool): { prefix: string; name: string } | undefined;
  prompt(prompt: Prompt): { prefix: string; name: string } | undefined;
  resource(resource: Resource): { prefix: string; name: string } | undefined;
  template(template: ResourceTemplate): { prefix: string; name: string } | undefined;
} {
  const route = (uri: string) => {
    const split = splitUri(table, uri);
    return split ? { prefix: split.routes.server.prefix, name: split.original } : undefined;
  };
  return {
    tool: (tool) => {
      const r = table.tools.get(tool.name);
      return r ? { prefix: r.routes.server.prefix, name: r.original } : undefined;
    },
    prompt: (prompt) => {
      const r = table.prompts.get(prompt.name);
      return r ? { prefix: r.routes.server.prefix, name: r.original } : undefined;
    },
    resource: (resource) => route(resource.uri),
    template: (template) => route(template.uriTemplate),
  };
}

/** The error a client reads when a rate limit refused its call. */
export function rateLimited(principal: Principal, refusal: RateRefusal, kind: AccessKind, prefix: string, name: string): McpError {
  const retryAfterSeconds = Math.max(1, Math.ceil(refusal.retryAfterMs / 1000));
  return new McpError(
    RATE_LIMITED,
    `${principal.id} is over the rate limit of ${refusal.limit.rate} (burst ${refusal.limit.burst}, per ${refusal.limit.per}) of the registry's access.yaml for ${kind} "${name}" of server "${prefix}"; retry after ${retryAfterSeconds} s`,
    { retryAfterSeconds, rate: refusal.limit.rate, principal: principal.id, server: prefix, [kind]: name },
  );
}

/** Throws the error a client reads when its grants do not cover what it asked for. */
export function requireAccess(access: Access, principal: Principal, kind: AccessKind, prefix: string, name: string): void {
  if (access.unrestricted || access.allows(kind, prefix, name)) return;
  throw new McpError(ACCESS_DENIED, AccessPolicy.denial(principal, kind, prefix, name), { principal: principal.id, server: prefix, [kind]: name });
}
