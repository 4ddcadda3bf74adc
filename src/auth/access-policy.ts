/**
 * What `access.yaml` means for one caller: which servers, tools, prompts and resources it may
 * use, and which rate limits count its calls. Compiled once per version of the file (globs to
 * RegExps), then per principal once (the grants and limits naming it, cached), so a check on the
 * call path is a few RegExp tests.
 *
 * Without the file, everyone who got past the bearer check may use everything (the behaviour
 * before policies existed). The local operator (stdio) is never restricted: that process can read
 * the registry and the secrets anyway.
 */
import type { AccessFile, AccessGrant, AccessLimit } from "../registry/access-file.js";
import type { Principal } from "./principal.js";

/** What a grant covers besides servers (a tool, a prompt, a resource URI or template). */
export type AccessKind = "tool" | "prompt" | "resource";

export interface Access {
  /** No grant restricts: lists are shown whole and no call is refused (rate limits may still apply). */
  readonly unrestricted: boolean;
  /** The same for every principal with the same grants: filtered lists are cached under it. */
  readonly key: string;
  /** Whether any grant covers the server at all. */
  server(prefix: string): boolean;
  allows(kind: AccessKind, prefix: string, name: string): boolean;
  /** The rate limits that count this principal's calls of `name` on `prefix`. */
  limits(prefix: string, name: string): readonly CompiledLimit[];
}

export interface CompiledLimit {
  /** The rule's own text: its buckets survive a reload that leaves it unchanged. */
  readonly id: string;
  readonly per: "principal" | "server" | "tool";
  /** Tokens added per millisecond. */
  readonly perMs: number;
  readonly burst: number;
  /** As written, for errors (`60/minute`). */
  readonly rate: string;
}

type Matcher = (text: string) => boolean;

const ANY: Matcher = () => true;

/** `*` any run of characters, `?` one; anything else literal. A list matches when one glob does. */
export function globMatcher(globs: readonly string[] | undefined): Matcher {
  if (!globs || globs.includes("*")) return ANY;
  const exact = new Set(globs.filter((g) => !/[*?]/.test(g)));
  const patterns = globs.filter((g) => /[*?]/.test(g)).map((g) => new RegExp(`^${g.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "s"));
  if (patterns.length === 0) return (text) => exact.has(text);
  return (text) => exact.has(text) || patterns.some((p) => p.test(text));
}

/** Whether one `who` entry names a principal. */
function names(selector: string, principal: Principal): boolean {
  if (selector === "*") return true;
  if (selector === "anonymous") return principal.kind === "anonymous";
  if (selector.startsWith("key:")) return principal.kind === "api-key" && principal.keyId === selector.slice(4);
  if (selector.startsWith("subject:")) return principal.kind === "oauth" && principal.subject === selector.slice(8);
  if (selector.startsWith("group:")) return principal.kind === "oauth" && principal.groups.includes(selector.slice(6));
  return false;
}

interface CompiledGrant {
  index: number;
  who: readonly string[];
  servers: Matcher;
  tool: Matcher;
  prompt: Matcher;
  resource: Matcher;
}

interface CompiledLimitRule extends CompiledLimit {
  who: readonly string[];
  servers: Matcher;
  tools: Matcher;
}

const UNITS_MS = { second: 1000, minute: 60_000, hour: 3_600_000 } as const;

function compileGrant(grant: AccessGrant, index: number): CompiledGrant {
  return { index, who: grant.who, servers: globMatcher(grant.servers), tool: globMatcher(grant.tools), prompt: globMatcher(grant.prompts), resource: globMatcher(grant.resources) };
}

function compileLimit(limit: AccessLimit): CompiledLimitRule {
  const [count, unit] = limit.rate.split("/") as [string, keyof typeof UNITS_MS];
  const calls = Number(count);
  return {
    id: JSON.stringify([limit.who, limit.servers, limit.tools, limit.rate, limit.burst, limit.per]),
    per: limit.per ?? "principal",
    perMs: calls / UNITS_MS[unit],
    burst: limit.burst ?? calls,
    rate: limit.rate,
    who: limit.who,
    servers: globMatcher(limit.servers),
    tools: globMatcher(limit.tools),
  };
}

const UNRESTRICTED: Access = Object.freeze({ unrestricted: true, key: "*", server: () => true, allows: () => true, limits: () => [] });
const CACHED_PRINCIPALS = 10_000;

let versions = 0;

export class AccessPolicy {
  /** No access file: everyone may use everything, no limits. */
  static readonly OPEN = new AccessPolicy(undefined);

  /** Changes with every policy built: lists are told to change when it does. */
  readonly version = ++versions;
  readonly restricted: boolean;
  readonly #grants: readonly CompiledGrant[];
  readonly #limits: readonly CompiledLimitRule[];
  readonly #byPrincipal = new Map<string, Access>();

  constructor(file: AccessFile | undefined) {
    this.restricted = file !== undefined;
    this.#grants = (file?.grants ?? []).map(compileGrant);
    this.#limits = (file?.limits ?? []).map(compileLimit);
  }

  /** What a principal may use under this policy (cached per principal and its groups). */
  accessFor(principal: Principal): Access {
    if (principal.kind === "local" || (!this.restricted && this.#limits.length === 0)) return UNRESTRICTED;
    const cacheKey = principal.kind === "oauth" ? `${principal.id}\n${principal.groups.join("\n")}` : principal.id;
    let access = this.#byPrincipal.get(cacheKey);
    if (!access) {
      if (this.#byPrincipal.size >= CACHED_PRINCIPALS) this.#byPrincipal.clear();
      access = this.#compileFor(principal);
      this.#byPrincipal.set(cacheKey, access);
    }
    return access;
  }

  #compileFor(principal: Principal): Access {
    const nameIt = (who: readonly string[]) => who.some((s) => names(s, principal));
    const grants = this.#grants.filter((g) => nameIt(g.who));
    const limits = this.#limits.filter((l) => nameIt(l.who));
    const limitsFor = (prefix: string, name: string): readonly CompiledLimit[] => (limits.length === 0 ? [] : limits.filter((l) => l.servers(prefix) && l.tools(name)));
    if (!this.restricted) return { unrestricted: true, key: "*", server: () => true, allows: () => true, limits: limitsFor };
    return {
      unrestricted: false,
      key: `${this.version}:${grants.map((g) => g.index).join(",")}`,
      server: (prefix) => grants.some((g) => g.servers(prefix)),
      allows: (kind, prefix, name) => grants.some((g) => g.servers(prefix) && g[kind](name)),
      limits: limitsFor,
    };
  }

  /** Why a principal may not use something, and the grant that would let it (for the error the client reads). */
  static denial(principal: Principal, kind: AccessKind, prefix: string, name: string): string {
    const who = principal.kind === "api-key" ? `key:${principal.keyId}` : principal.kind === "oauth" ? `subject:${principal.subject}` : principal.kind;
    const field = kind === "tool" ? "tools" : kind === "prompt" ? "prompts" : "resources";
    return `${principal.id} may not use ${kind} "${name}" of server "${prefix}": no grant in the registry's access.yaml covers it (a grant with who: ["${who}"${principal.kind === "oauth" && principal.groups.length ? " or one of its groups" : ""}], servers: ["${prefix}"], ${field}: ["${name}"] would)`;
  }
}
