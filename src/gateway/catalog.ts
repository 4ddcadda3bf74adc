import type { Prompt, Resource, ResourceTemplate, Tool } from "@modelcontextprotocol/sdk/types.js";
import type { KnownEra } from "../launch/launcher.js";

/**
 * What one server version offers, as its list methods report it (original names and URIs).
 * Discovered once per server version (hash) and cached on disk, or taken from `router.tools`.
 */
export interface Catalog {
  /** The server version (RegistryServer.hash) this catalog was discovered from. */
  hash: string;
  tools: Tool[];
  resources: Resource[];
  resourceTemplates: ResourceTemplate[];
  prompts: Prompt[];
  /** Whether the server answers `completion/complete`. */
  completions: boolean;
  /** Whether the server accepts `logging/setLevel`. */
  logging: boolean;
  /** `discovered` (asked the server) or `registry` (`router.tools` only). */
  source: "discovered" | "registry";
  discoveredAt?: string;
  /**
   * The wire era the server version was found to speak when it was discovered (`modern` with its
   * `server/discover` answer, or `legacy`); absent when its launcher has no eras to find or did not
   * find one. A launcher whose upstreams are pinned by version (containers) connects from it later
   * with no probe, even after a restart.
   */
  era?: KnownEra;
}
