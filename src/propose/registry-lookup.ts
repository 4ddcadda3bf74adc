/**
 * Resolves a package's version (and checks it exists) from its registry: npm, PyPI or an OCI
 * registry (Docker Hub, ghcr.io). `fetch` and the base URLs are injected, so tests run against a
 * local HTTP server with recorded response shapes. Any failure (unreachable, 404, timeout) is an
 * answer, not an exception: the caller turns it into a reviewer TODO.
 */
import type { Package } from "../registry/types.js";

export type FetchLike = (url: string, init?: { headers?: Record<string, string>; signal?: AbortSignal }) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

export interface RegistryLookupOptions {
  fetch: FetchLike;
  npmBaseUrl?: string;
  pypiBaseUrl?: string;
  /** Docker Hub's API (tags), e.g. https://hub.docker.com. */
  dockerHubBaseUrl?: string;
  /** Base URL of an OCI distribution registry by host, e.g. {"ghcr.io": "https://ghcr.io"}. */
  ociBaseUrls?: Record<string, string>;
  timeoutMs?: number;
}

export interface LookupResult {
  registryType: string;
  identifier: string;
  /** The package exists in its registry. */
  exists: boolean;
  /** Latest published version (or newest semver-like image tag). */
  latest?: string;
  /** Whether the version asked about is published (undefined when none was asked or it is unknown). */
  versionPublished?: boolean;
  /** Why the answer is incomplete, for the reviewer. */
  error?: string;
}

export async function lookupPackage(pkg: Pick<Package, "registryType" | "identifier" | "version">, options: RegistryLookupOptions): Promise<LookupResult> {
  const base: LookupResult = { registryType: pkg.registryType, identifier: pkg.identifier, exists: false };
  const get = async (url: string, headers: Record<string, string> = {}) => {
    const signal = AbortSignal.timeout(options.timeoutMs ?? 5000);
    return options.fetch(url, { headers: { accept: "application/json", ...headers }, signal });
  };
  try {
    if (pkg.registryType === "npm") {
      const res = await get(`${options.npmBaseUrl ?? "https://registry.npmjs.org"}/${pkg.identifier.replace("/", "%2F")}`, { accept: "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8" });
      if (res.status === 404) return { ...base, error: `${pkg.identifier} is not on npm` };
      if (!res.ok) return { ...base, error: `npm answered HTTP ${res.status}` };
      const doc = (await res.json()) as { "dist-tags"?: Record<string, string>; versions?: Record<string, unknown> };
      const latest = doc["dist-tags"]?.latest;
      return { ...base, exists: true, ...(latest ? { latest } : {}), ...(pkg.version ? { versionPublished: !!doc.versions?.[pkg.version] } : {}) };
    }
    if (pkg.registryType === "pypi") {
      const res = await get(`${options.pypiBaseUrl ?? "https://pypi.org"}/pypi/${encodeURIComponent(pkg.identifier)}/json`);
      if (res.status === 404) return { ...base, error: `${pkg.identifier} is not on PyPI` };
      if (!res.ok) return { ...base, error: `PyPI answered HTTP ${res.status}` };
      const doc = (await res.json()) as { info?: { version?: string }; releases?: Record<string, unknown[]> };
      const latest = doc.info?.version;
      return { ...base, exists: true, ...(latest ? { latest } : {}), ...(pkg.version ? { versionPublished: !!doc.releases?.[pkg.version]?.length } : {}) };
    }
    if (pkg.registryType === "oci") {
      const [image, tag] = splitImage(pkg.identifier);
      const host = image.includes(".") && image.split("/")[0]!.includes(".") ? image.split("/")[0]! : "docker.io";
      const path = host === "docker.io" ? image.replace(/^docker\.io\//, "") : image.slice(host.length + 1);
      let tags: string[] = [];
      if (host === "docker.io") {
        const repo = path.includes("/") ? path : `library/${path}`;
        const res = await get(`${options.dockerHubBaseUrl ?? "https://hub.docker.com"}/v2/repositories/${repo}/tags?page_size=100`);
        if (res.status === 404) return { ...base, error: `${image} is not on Docker Hub` };
        if (!res.ok) return { ...base, error: `Docker Hub answered HTTP ${res.status}` };
        tags = (((await res.json()) as { results?: { name?: string }[] }).results ?? []).map((t) => t.name ?? "").filter(Boolean);
      } else {
        const root = options.ociBaseUrls?.[host] ?? `https://${host}`;
        const tokenRes = await get(`${root}/token?scope=repository:${path}:pull`);
        const token = tokenRes.ok ? ((await tokenRes.json()) as { token?: string }).token : undefined;
        const res = await get(`${root}/v2/${path}/tags/list`, token ? { authorization: `Bearer ${token}` } : {});
        if (res.status === 404) return { ...base, error: `${image} is not on ${host}` };
        if (!res.ok) return { ...base, error: `${host} answered HTTP ${res.status}` };
        tags = ((await res.json()) as { tags?: string[] }).tags ?? [];
      }
      const latest = newestVersion(tags);
      return { ...base, exists: true, ...(latest ? { latest } : {}), ...(tag ? { versionPublished: tags.includes(tag) } : {}) };
    }
    return { ...base, error: `no lookup for registry type ${pkg.registryType}` };
  } catch (err) {
    return { ...base, error: `registry unreachable: ${(err as Error).message}` };
  }
}

function splitImage(ref: string): [string, string | undefined] {
  const m = /^(.*?)(?::([^/:@]+))?$/.exec(ref);
  return [m?.[1] ?? ref, m?.[2]];
}

/** The highest `x.y.z` tag (an optional leading `v` dropped), ignoring `latest`, `main`, sha-like tags. */
export function newestVersion(tags: string[]): string | undefined {
  const parse = (t: string) => /^v?(\d+)\.(\d+)\.(\d+)$/.exec(t)?.slice(1).map(Number);
  return tags
    .filter((t) => parse(t))
    .sort((a, b) => {
      const x = parse(a)!;
      const y = parse(b)!;
      return (x[0]! - y[0]!) || (x[1]! - y[1]!) || (x[2]! - y[2]!);
    })
    .pop()
    ?.replace(/^v(?=\d)/, "");
}

/**
 * Checks the entry's package against its registry and fills in a version the heuristics could not
 * find offline (`unresolved`). Returns a new entry plus what the reviewer must know; never throws.
 */
export async function resolveWithRegistry<E extends { version: string; packages?: Package[] }>(
  entry: E,
  unresolved: string,
  options: RegistryLookupOptions,
): Promise<{ entry: E; notes: string[]; todos: string[]; resolved: boolean }> {
  const pkg = entry.packages?.[0];
  if (!pkg) return { entry, notes: [], todos: [], resolved: false };
  const [image, tag] = pkg.registryType === "oci" ? splitImage(pkg.identifier) : [pkg.identifier, pkg.version];
  const asked = tag === unresolved ? undefined : tag;
  const result = await lookupPackage({ registryType: pkg.registryType, identifier: pkg.registryType === "oci" ? `${image}${asked ? `:${asked}` : ""}` : image, ...(asked ? { version: asked } : {}) }, options);
  const notes: string[] = [];
  const todos: string[] = [];
  const copy = structuredClone(entry);
  const p = copy.packages![0]!;
  if (result.error) {
    if (!asked) todos.push(`Version of \`${image}\` still unknown: ${result.error}.`);
    else notes.push(`Could not check \`${image}\` ${asked} in its registry: ${result.error}.`);
    return { entry: copy, notes, todos, resolved: false };
  }
  if (!asked && result.latest) {
    if (p.registryType === "oci") p.identifier = `${image}:${result.latest}`;
    else p.version = result.latest;
    if (copy.version === unresolved) copy.version = result.latest;
    notes.push(`Version ${result.latest} is the latest published in the ${p.registryType} registry.`);
    return { entry: copy, notes, todos, resolved: true };
  }
  if (!asked) todos.push(`\`${image}\` is published, but no exact version was found; set one before merging.`);
  else if (result.versionPublished === false) todos.push(`\`${image}\` ${asked} is not published in its registry${result.latest ? ` (latest: ${result.latest})` : ""}; check the version.`);
  else notes.push(`\`${image}\` ${asked} is published in its registry.`);
  return { entry: copy, notes, todos, resolved: result.versionPublished === true };
}
