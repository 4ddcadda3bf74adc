/**
 * The limits every kind of server has (`router.limits`), with the defaults a launcher applies
 * when a file sets none. Containers use them all; remotes, OpenAPI and in-process upstreams the
 * call time limit.
 */
import type { RegistryServer } from "../registry/types.js";

export interface ResourceDefaults {
  memory: string;
  cpus: number;
  pids: number;
  tmpfs: string;
  timeoutSeconds: number;
}

export const DEFAULT_RESOURCES: ResourceDefaults = { memory: "512m", cpus: 1, pids: 128, tmpfs: "64m", timeoutSeconds: 60 };

/** A call's time limit: the server's `router.limits.timeoutSeconds`, else the default. */
export function timeoutMs(server: RegistryServer, defaults: ResourceDefaults = DEFAULT_RESOURCES): number {
  return (server.entry.router?.limits?.timeoutSeconds ?? defaults.timeoutSeconds) * 1000;
}
