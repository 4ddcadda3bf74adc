/**
 * The immutable routing table: which server answers which tool, resource, template and prompt,
 * under which public name. Built from the registry's servers and their catalogs; replaced whole
 * (see `TableHolder`), never mutated, so a call keeps the table it started with.
 */
import { createHash } from "node:crypto";
import type { Prompt, Resource, ResourceTemplate, Tool } from "@modelcontextprotocol/sdk/types.js";
import type { RegistryServer } from "../registry/types.js";
import type { Catalog } from "./catalog.js";

/** Separator between a server prefix and a tool or prompt name. */
export const NAME_SEPARATOR = "__";
/** MCP tool names: 1..128 of `[A-Za-z0-9_.-]`. */
export const MAX_TOOL_NAME = 128;

/** One server's share of the table, with its ORIGINAL names (what the per-server endpoint shows). */
export interface ServerRoutes {
  readonly server: RegistryServer;
  /** Allowed tools, original names. */
  readonly tools: readonly Tool[];
  readonly resources: readonly Resource[];
  readonly resourceTemplates: readonly ResourceTemplate[];
  readonly prompts: readonly Prompt[];
  readonly completions: boolean;
  readonly logging: boolean;
  /** False while the server's catalog is not known yet (nothing of it is listed). */
  readonly ready: boolean;
}

export interface ToolRoute {
  readonly routes: ServerRoutes;
  /** The name the server knows the tool by. */
  readonly original: string;
  /** The tool as listed to clients (namespaced name). */
  readonly tool: Tool;
}

export interface PromptRoute {
  readonly routes: ServerRoutes;
  readonly original: string;
  readonly prompt: Prompt;
}

/** A name or URI that two servers would both claim; the table keeps both, distinguishable. */
export interface Conflict {
  kind: "tool" | "prompt";
  name: string;
  servers: string[];
  resolution: string;
}

export interface RoutingTable {
  /** Increases with every table built by this process. */
  readonly version: number;
  readonly servers: ReadonlyMap<string, ServerRoutes>;
  readonly tools: ReadonlyMap<string, ToolRoute>;
  readonly prompts: ReadonlyMap<string, PromptRoute>;
  /** Precomputed list answers (the aggregated view). */
  readonly toolList: readonly Tool[];
  readonly resourceList: readonly Resource[];
  readonly templateList: readonly ResourceTemplate[];
  readonly promptList: readonly Prompt[];
  readonly conflicts: readonly Conflict[];
}

let nextVersion = 1;

/** `*` glob (any run of characters) to a RegExp. */
function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`);
}

/** Whether `router.allowTools` / `router.denyTools` let a tool through. */
export function toolAllowed(server: RegistryServer, tool: string): boolean {
  const router = server.entry.router;
  const allow = router?.allowTools;
  const deny = router?.denyTools;
  if (allow && allow.length > 0 && !allow.some((g) => globToRegExp(g).test(tool))) return false;
  if (deny?.some((g) => globToRegExp(g).test(tool))) return false;
  return true;
}

function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 6);
}

/** `<prefix>__<tool>` as a valid MCP tool name: invalid characters become `_`; too long names are cut and get a hash. */
export function namespacedName(prefix: string, name: string): string {
  const raw = `${prefix}${NAME_SEPARATOR}${name}`;
  const clean = raw.replace(/[^A-Za-z0-9_.-]/g, "_");
  if (clean.length <= MAX_TOOL_NAME && clean === raw) return clean;
  const suffix = `_${shortHash(raw)}`;
  return clean.length + (clean === raw ? 0 : suffix.length) <= MAX_TOOL_NAME ? `${clean}${suffix}` : `${clean.slice(0, MAX_TOOL_NAME - suffix.length)}${suffix}`;
}

/**
 * Resource URIs are namespaced by prepending the prefix to the scheme: `demo://x` served by
 * `everything` is listed as `everything+demo://x` (still a valid URI, and templates stay valid
 * templates). So two servers can never shadow each other's resources.
 */
export function namespacedUri(prefix: string, uri: string): string {
  return `${prefix}+${uri}`;
}

/** The prefix and original URI of a namespaced URI, if it is one of a known server. */
export function splitUri(table: RoutingTable, uri: string): { routes: ServerRoutes; original: string } | undefined {
  const plus = uri.indexOf("+");
  if (plus <= 0) return undefined;
  const routes = table.servers.get(uri.slice(0, plus));
  return routes ? { routes, original: uri.slice(plus + 1) } : undefined;
}

/** The catalog of a server when nothing was discovered yet: `router.tools` only. */
export function registryCatalog(server: RegistryServer): Catalog | undefined {
  const tools = server.entry.router?.tools;
  if (!tools || tools.length === 0) return undefined;
  return {
    hash: server.hash,
    tools: tools.map((t) => ({ ...t, inputSchema: t.inputSchema as Tool["inputSchema"] }) as Tool),
    resources: [],
    resourceTemplates: [],
    prompts: [],
    completions: false,
    logging: false,
    source: "registry",
  };
}

/**
 * Builds a table. `catalogs` maps server hash to its discovered catalog; a server without one is
 * served from `router.tools` if it has them, else listed as not ready. Disabled servers are left out.
 */
export function buildRoutingTable(servers: readonly RegistryServer[], catalogs: ReadonlyMap<string, Catalog>): RoutingTable {
  const byPrefix = new Map<string, ServerRoutes>();
  const tools = new Map<string, ToolRoute>();
  const prompts = new Map<string, PromptRoute>();
  const conflicts: Conflict[] = [];
  const resourceList: Resource[] = [];
  const templateList: ResourceTemplate[] = [];

  for (const server of servers) {
    if (server.entry.router?.enabled === false) continue;
    const discovered = catalogs.get(server.hash);
    const fromRegistry = registryCatalog(server);
    // The reviewed `router.tools` list wins for tools; discovery supplies resources and prompts.
    const catalog = discovered ?? fromRegistry;
    const toolSource = fromRegistry?.tools ?? discovered?.tools ?? [];
    const routes: ServerRoutes = {
      server,
      tools: Object.freeze(toolSource.filter((t) => toolAllowed(server, t.name))),
      resources: Object.freeze(catalog?.resources ?? []),
      resourceTemplates: Object.freeze(catalog?.resourceTemplates ?? []),
      prompts: Object.freeze(catalog?.prompts ?? []),
      completions: catalog?.completions ?? false,
      logging: catalog?.logging ?? false,
      ready: catalog !== undefined,
    };
    byPrefix.set(server.prefix, routes);

    for (const tool of routes.tools) {
      let name = namespacedName(server.prefix, tool.name);
      const clash = tools.get(name);
      if (clash) {
        const renamed = namespacedName(server.prefix, `${tool.name}_${shortHash(`${server.prefix}/${tool.name}`)}`);
        conflicts.push({ kind: "tool", name, servers: [clash.routes.server.prefix, server.prefix], resolution: `${server.prefix}'s tool listed as ${renamed}` });
        name = renamed;
      }
      tools.set(name, { routes, original: tool.name, tool: Object.freeze({ ...tool, name }) });
    }
    for (const prompt of routes.prompts) {
      let name = `${server.prefix}${NAME_SEPARATOR}${prompt.name}`;
      const clash = prompts.get(name);
      if (clash) {
        const renamed = `${name}_${shortHash(`${server.prefix}/${prompt.name}`)}`;
        conflicts.push({ kind: "prompt", name, servers: [clash.routes.server.prefix, server.prefix], resolution: `${server.prefix}'s prompt listed as ${renamed}` });
        name = renamed;
      }
      prompts.set(name, { routes, original: prompt.name, prompt: Object.freeze({ ...prompt, name }) });
    }
    for (const resource of routes.resources) resourceList.push({ ...resource, uri: namespacedUri(server.prefix, resource.uri) });
    for (const template of routes.resourceTemplates) templateList.push({ ...template, uriTemplate: namespacedUri(server.prefix, template.uriTemplate) });
  }

  return Object.freeze({
    version: nextVersion++,
    servers: byPrefix,
    tools,
    prompts,
    toolList: Object.freeze([...tools.values()].map((r) => r.tool)),
    resourceList: Object.freeze(resourceList),
    templateList: Object.freeze(templateList),
    promptList: Object.freeze([...prompts.values()].map((r) => r.prompt)),
    conflicts: Object.freeze(conflicts),
  });
}
