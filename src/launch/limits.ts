/**
 * The limits every kind of server has (`router.limits`), with the defaults a launcher applies
 * when a file sets none (kept in `registry/defaults.ts`). Containers use them all; remotes,
 * OpenAPI and in-process upstreams the call time limit.
 */
import { DEFAULT_RESOURCES, type ResourceDefaults } from "../registry/defaults.js";
import type { RegistryServer } from "../registry/types.js";

// The numbers live in registry/ (the privilege summary and the proposer compare files against them).
export { DEFAULT_RESOURCES, type ResourceDefaults } from "../registry/defaults.js";

/** A call's time limit: the server's `router.limits.timeoutSeconds`, else the default. */
export function timeoutMs(server: RegistryServer, defaults: ResourceDefaults = DEFAULT_RESOURCES): number {
  return (server.entry.router?.limits?.timeoutSeconds ?? defaults.timeoutSeconds) * 1000;
}
