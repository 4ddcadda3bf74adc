/* Generated from schemas/access.schema.json by `npm run gen:types`. Do not edit by hand. */

/**
 * The principals a grant or limit names.
 *
 * @minItems 1
 *
 * This interface was referenced by `AccessFile`'s JSON-Schema
 * via the `definition` "Who".
 */
export type Who = [string, ...string[]];
/**
 * Server prefixes (as `/status` lists them) or globs.
 *
 * @minItems 1
 */
export type Globs = [string, ...string[]];
/**
 * Tool names as the server knows them (not `<prefix>__<tool>`), or globs; default every tool.
 *
 * @minItems 1
 */
export type Globs1 = [string, ...string[]];
/**
 * Prompt names or globs; default every prompt.
 *
 * @minItems 1
 */
export type Globs2 = [string, ...string[]];
/**
 * Resource URIs (and URI templates) as the server knows them, or globs; default every resource.
 *
 * @minItems 1
 */
export type Globs3 = [string, ...string[]];
/**
 * The servers whose calls count (default all).
 *
 * @minItems 1
 */
export type Globs4 = [string, ...string[]];
/**
 * The tools (or prompts) whose calls count (default all).
 *
 * @minItems 1
 */
export type Globs5 = [string, ...string[]];
/**
 * Names or glob patterns (`*` any run of characters, `?` one character).
 *
 * @minItems 1
 *
 * This interface was referenced by `AccessFile`'s JSON-Schema
 * via the `definition` "Globs".
 */
export type Globs6 = [string, ...string[]];

/**
 * Who may list and call which servers, tools, prompts and resources of the registry, and at what rate: `access.yaml` at the registry's root. Without the file everyone who may reach the gateway may use everything.
 */
export interface AccessFile {
  /**
   * What each principal may use. A principal may use what any grant naming it allows; anything else is refused.
   */
  grants: Grant[];
  /**
   * Rate limits (token buckets) on calls: tools/call, resources/read, prompts/get.
   */
  limits?: Limit[];
}
/**
 * This interface was referenced by `AccessFile`'s JSON-Schema
 * via the `definition` "Grant".
 */
export interface Grant {
  who: Who;
  servers: Globs;
  tools?: Globs1;
  prompts?: Globs2;
  resources?: Globs3;
}
/**
 * This interface was referenced by `AccessFile`'s JSON-Schema
 * via the `definition` "Limit".
 */
export interface Limit {
  who: Who;
  servers?: Globs4;
  tools?: Globs5;
  /**
   * How many calls, per second, minute or hour.
   */
  rate: string;
  /**
   * Calls allowed at once before the rate applies (default: the rate's count).
   */
  burst?: number;
  /**
   * One bucket per principal for all the calls it names (`principal`, the default), per principal and server (`server`), or per principal and tool (`tool`).
   */
  per?: "principal" | "server" | "tool";
}
