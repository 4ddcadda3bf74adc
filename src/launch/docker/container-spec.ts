import type { ContainerCreateOptions } from "dockerode";
import type { Argument, Input, KeyValueInput, Package, RegistryServer } from "../../registry/types.js";
import { lifecycleOf } from "../../registry/types.js";
import { sizeBytes } from "../../registry/policy.js";
import { LaunchError, missingSecrets } from "../errors.js";
import { newResolution, resolveInput, substitute } from "../../secrets/input-values.js";
import type { Resolution } from "../../secrets/input-values.js";
import type { ResourceDefaults } from "../limits.js";
import { DEFAULT_RESOURCES } from "../limits.js";
import type { SecretSource } from "../../secrets/secret-source.js";

/** Labels that mark containers as ours. */
export const LABELS = {
  managed: "dev.mcp-router.managed",
  owner: "dev.mcp-router.owner",
  server: "dev.mcp-router.server",
  name: "dev.mcp-router.name",
  revision: "dev.mcp-router.revision",
  lifecycle: "dev.mcp-router.lifecycle",
  network: "dev.mcp-router.network",
} as const;

/** Resource defaults applied when `router.limits` leaves a value out. */
export interface ContainerSpecOptions {
  /** The image to run: the prepared, derived image (npm/pypi) or the package's own reference (oci). */
  image: string;
  /** Secret values, looked up by declared name only. */
  secrets: SecretSource;
  /** Value of the owner label; orphan reaping only touches containers with the same owner. */
  owner: string;
  defaults?: ResourceDefaults;
  /** Entrypoint to use instead of the image's own (e.g. `router.build.command`). */
  entrypoint?: string[];
  /**
   * Network for servers that speak HTTP but declare no egress: an internal network (no route
   * out) that the daemon can reach. Default `mcp-router-internal`.
   */
  internalNetwork?: string;
  /**
   * For a server with a network allowlist: the network its containers join and the proxy
   * (with its credentials) that enforces the list. Required for such servers.
   */
  egress?: { network: string; proxyUrl: string };
}

/** What the egress proxy lets a server reach: its allowlist, any public host (`network: public`), or undefined when it is not proxied. */
export function proxiedEgress(server: RegistryServer): readonly string[] | "public" | undefined {
  const network = server.entry.router?.network;
  return network === "public" ? "public" : typeof network === "object" ? network.allow : undefined;
}

/** The internal (no egress) network HTTP-speaking servers without declared egress join. */
export const INTERNAL_NETWORK = "mcp-router-internal";

/** What the launcher needs beyond the create options: names only, never values. */
export interface ContainerSpec {
  create: ContainerCreateOptions;
  /** Names of the env vars that were set from the secret source (for scrubbing logs). */
  secretNames: string[];
  /** Secret values that were injected, so logs and errors can scrub them. Never log this. */
  secretValues: string[];
  /** Non-fatal notes for the log. */
  warnings: string[];
}

/** What a `router.build` server without packages runs: the built image, spoken to over stdio. */
const BUILT_IMAGE_PACKAGE: Package = { registryType: "oci", identifier: "router.build", transport: { type: "stdio" } };

/**
 * The package of a server that the launcher runs (`router.package`, default 0). With
 * `router.build`, the built image replaces the package's own; without packages it is a stdio server.
 */
export function selectedPackage(server: RegistryServer): Package {
  const index = server.entry.router?.package ?? 0;
  const pkg = server.entry.packages?.[index] ?? (server.entry.router?.build && !server.entry.packages?.length ? BUILT_IMAGE_PACKAGE : undefined);
  if (!pkg) {
    throw new LaunchError(
      "PACKAGE_MISSING",
      `server ${server.prefix} (${server.file}) has no package at index ${index}`,
      "Add a `packages` entry, or point `router.package` at an existing one; remote-only servers are proxied, not launched.",
    );
  }
  return pkg;
}

/** Parses `256m`, `1g`, `512k` or plain bytes. */
export function parseSize(size: string): number {
  const bytes = sizeBytes(size);
  if (Number.isNaN(bytes)) throw new LaunchError("PACKAGE_UNSUPPORTED", `invalid size ${JSON.stringify(size)}`, "Use a size such as `256m` or `1g`.");
  return bytes;
}

/** A resolution that also collects `NAME=value` env entries. */
type EnvResolution = Resolution & { env: string[] };

function resolveEnv(vars: KeyValueInput[], secrets: SecretSource, r: EnvResolution): void {
  for (const kv of vars) {
    let value: string | undefined;
    if (!kv.isSecret && kv.value !== undefined) {
      value = substitute(kv.value, kv.variables, secrets, r);
    } else {
      value = resolveInput(kv.name, kv, secrets, r);
    }
    if (value !== undefined) r.env.push(`${kv.name}=${value}`);
  }
}

function argumentIsSecret(arg: Argument): boolean {
  const variables = (arg.variables ?? {}) as Record<string, Input | undefined>;
  return arg.isSecret === true || Object.values(variables).some((v) => v?.isSecret === true);
}

/** The package arguments as argv. Secret arguments are refused: secrets never go on a command line. */
export function packageArgv(server: RegistryServer, pkg: Package, secrets: SecretSource): string[] {
  const argv: string[] = [];
  const r = newResolution();
  for (const arg of pkg.packageArguments ?? []) {
    const label = arg.type === "named" ? arg.name : (arg.valueHint ?? "positional argument");
    if (argumentIsSecret(arg)) {
      throw new LaunchError(
        "PACKAGE_UNSUPPORTED",
        `server ${server.prefix}: argument ${label} is secret, and secrets are never passed on a command line`,
        "Declare the secret as an environment variable (`environmentVariables` with isSecret: true) instead.",
      );
    }
    const raw = arg.value ?? arg.default;
    const value = raw === undefined ? undefined : substitute(raw, arg.variables as Record<string, Input | undefined> | undefined, secrets, r);
    if (arg.type === "named") {
      if (value === undefined && raw !== undefined) continue;
      argv.push(arg.name);
      if (value !== undefined) argv.push(value);
    } else if (value !== undefined) {
      argv.push(value);
    } else if (arg.isRequired) {
      throw new LaunchError(
        "PACKAGE_UNSUPPORTED",
        `server ${server.prefix}: required positional argument ${label} has no value`,
        "Give the argument a `value` (or `default`) in the registry file.",
      );
    }
  }
  if (r.missing.length > 0) throw missingSecrets(server, r.missing, secrets);
  return argv;
}

/**
 * What the registry file decides about a server's container, secrets resolved: argv, declared env,
 * limits. Where it runs (image, egress) comes later, from `placeContainer`. Pure.
 */
export interface ResolvedContainer {
  readonly server: RegistryServer;
  readonly pkg: Package;
  readonly argv: string[];
  /** `NAME=value` entries of the declared env, secrets included. Never log this. */
  readonly env: string[];
  readonly secretNames: string[];
  readonly secretValues: string[];
  readonly limits: ResourceDefaults;
  readonly memoryBytes: number;
  readonly tmpfsBytes: number;
}

/** Resolves a server's argv and env; throws SECRET_MISSING (by name) and the like before anything runs. */
export function resolveContainer(server: RegistryServer, options: Pick<ContainerSpecOptions, "secrets" | "defaults">): ResolvedContainer {
  const pkg = selectedPackage(server);
  const limits = { ...(options.defaults ?? DEFAULT_RESOURCES), ...stripUndefined(server.entry.router?.limits ?? {}) };
  const r: EnvResolution = { ...newResolution(), env: [] };
  resolveEnv(pkg.environmentVariables ?? [], options.secrets, r);
  if (r.missing.length > 0) throw missingSecrets(server, r.missing, options.secrets);
  const argv = packageArgv(server, pkg, options.secrets);
  return { server, pkg, argv, env: r.env, secretNames: r.secretNames, secretValues: r.secretValues, limits, memoryBytes: parseSize(limits.memory), tmpfsBytes: parseSize(limits.tmpfs) };
}

/**
 * The one place that decides how a server's container is created: image, argv, declared env only,
 * and the hardening every container gets. Pure: no I/O, same input, same output.
 */
export function containerSpec(server: RegistryServer, options: ContainerSpecOptions): ContainerSpec {
  return placeContainer(resolveContainer(server, options), options);
}

/** A resolved container's create options on its image and network (with the egress proxy of an allowlist). Pure. */
export function placeContainer(resolved: ResolvedContainer, options: Omit<ContainerSpecOptions, "secrets" | "defaults">): ContainerSpec {
  const { server, pkg, limits } = resolved;
  const router = server.entry.router;
  const warnings: string[] = [];
  const env = [...resolved.env];
  const secretValues = [...resolved.secretValues];

  const network = router?.network ?? "none";
  let networkMode: string;
  let networkLabel: string;
  if (network === "none" && pkg.transport.type !== "stdio") {
    // Reached over HTTP, so it needs an address, but still no route out.
    networkMode = options.internalNetwork ?? INTERNAL_NETWORK;
    networkLabel = "internal";
  } else if (network === "none" || network === "bridge") {
    networkMode = network;
    networkLabel = network;
  } else {
    if (!options.egress) {
      throw new LaunchError(
        "EGRESS_UNAVAILABLE",
        `server ${server.prefix} declares a network allowlist, but no egress proxy was set up for it`,
        "Start it through the launcher, which sets up the proxy that enforces the list.",
      );
    }
    // The only way out is the proxy, which allows the listed hosts and nothing else.
    networkMode = options.egress.network;
    networkLabel = network === "public" ? "public" : `allow:${network.allow.join(",")}`;
    const url = options.egress.proxyUrl;
    env.push(`HTTP_PROXY=${url}`, `HTTPS_PROXY=${url}`, `http_proxy=${url}`, `https_proxy=${url}`, "NO_PROXY=localhost,127.0.0.1,::1", "no_proxy=localhost,127.0.0.1,::1", "NODE_USE_ENV_PROXY=1");
    secretValues.push(url);
  }

  const memory = resolved.memoryBytes;
  const create: ContainerCreateOptions = {
    Image: options.image,
    Cmd: resolved.argv,
    ...(options.entrypoint ? { Entrypoint: options.entrypoint } : {}),
    Env: ["HOME=/tmp", ...env],
    User: "65534:65534",
    OpenStdin: true,
    StdinOnce: false,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    NetworkDisabled: networkMode === "none",
    Labels: {
      [LABELS.managed]: "true",
      [LABELS.owner]: options.owner,
      [LABELS.server]: server.prefix,
      [LABELS.name]: server.name,
      [LABELS.revision]: server.hash,
      [LABELS.lifecycle]: lifecycleOf(server),
      [LABELS.network]: networkLabel,
    },
    HostConfig: {
      Init: true,
      ReadonlyRootfs: true,
      Tmpfs: { "/tmp": `rw,nosuid,nodev,size=${resolved.tmpfsBytes}` },
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges"],
      PidsLimit: limits.pids,
      Memory: memory,
      MemorySwap: memory,
      NanoCpus: Math.round(limits.cpus * 1e9),
      NetworkMode: networkMode,
      Binds: (router?.mounts ?? []).map((m) => `${m.source}:${m.target}:ro`),
      LogConfig: { Type: "none", Config: {} },
      AutoRemove: false,
      Privileged: false,
      IpcMode: "private",
    },
  };
  return { create, secretNames: resolved.secretNames, secretValues, warnings };
}

/** Per-call timeout of a server in milliseconds. */

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
