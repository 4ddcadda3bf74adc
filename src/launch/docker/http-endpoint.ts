/**
 * Servers packaged as images that speak Streamable HTTP or SSE instead of stdio: they are reached
 * on the container's own address, on a network the daemon can reach (an internal one, without a
 * route out, unless the entry declares egress).
 */
import { connect } from "node:net";
import type Docker from "dockerode";
import type { Package } from "../../registry/types.js";
import { LaunchError } from "../errors.js";

/**
 * The URL to reach a package's HTTP transport in its container: `{name}` placeholders filled from
 * the container's env (declared variables) and the package arguments (by valueHint or flag name),
 * and a loopback or wildcard host replaced with the container's address.
 */
export function packageEndpoint(pkg: Package, env: readonly string[], containerIp: string): URL {
  if (pkg.transport.type === "stdio") throw new Error("a stdio package has no endpoint");
  const values = new Map<string, string>();
  for (const entry of env) {
    const eq = entry.indexOf("=");
    if (eq > 0) values.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  for (const arg of [...(pkg.runtimeArguments ?? []), ...(pkg.packageArguments ?? [])]) {
    const value = arg.value ?? arg.default;
    if (value === undefined) continue;
    if (arg.type === "positional" && arg.valueHint) values.set(arg.valueHint, value);
    if (arg.type === "named") values.set(arg.name.replace(/^-+/, ""), value);
  }
  const filled = pkg.transport.url.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, key: string) => values.get(key) ?? whole);
  let url: URL;
  try {
    url = new URL(filled);
  } catch {
    throw new LaunchError("PACKAGE_UNSUPPORTED", `transport url ${JSON.stringify(pkg.transport.url)} does not resolve to a URL (got ${JSON.stringify(filled)})`, "Give every `{placeholder}` of the url a value through an argument or environment variable.");
  }
  if (/^\{.*\}$/.test(url.port) || /\{/.test(url.href)) {
    throw new LaunchError("PACKAGE_UNSUPPORTED", `transport url ${JSON.stringify(filled)} still has unresolved placeholders`, "Give every `{placeholder}` of the url a value through an argument or environment variable.");
  }
  if (["localhost", "127.0.0.1", "0.0.0.0", "[::]", "[::1]"].includes(url.hostname)) url.hostname = containerIp;
  return url;
}

/** The container's address on its (single) network. */
export async function containerAddress(container: Docker.Container): Promise<string> {
  const info = await container.inspect();
  const ip = Object.values(info.NetworkSettings?.Networks ?? {}).find((n) => n?.IPAddress)?.IPAddress;
  if (!ip) throw new LaunchError("CONTAINER_START_FAILED", "the container has no network address to reach its HTTP transport", "Check that the Docker network exists and the container is on it.");
  return ip;
}

/** Resolves once something accepts TCP connections on host:port; retries until `deadline`. */
export async function waitForPort(host: string, port: number, deadline: number, signal?: AbortSignal): Promise<void> {
  for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port });
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
      socket.setTimeout(1_000, () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (open) return;
    if (signal?.aborted) throw new LaunchError("ABORTED", "cancelled while the server started", "Nothing to do: the client cancelled the request.");
    if (Date.now() + delay > deadline) {
      throw new LaunchError("CONTAINER_START_FAILED", `nothing listens on ${host}:${port} in time`, "Check the package's transport url and port, and that the server listens on all interfaces (0.0.0.0).");
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}

/**
 * Creates an internal network of ours once: containers on it reach each other and the host,
 * nothing else (with `inhibit_ipv4` in `driverOptions`, not even the host).
 */
export async function ensureInternalNetwork(docker: Docker, name: string, labels: Record<string, string>, driverOptions: Record<string, string> = {}): Promise<void> {
  const existing = await docker.listNetworks({ filters: JSON.stringify({ name: [name] }) });
  if (existing.some((n) => n.Name === name)) return;
  try {
    await docker.createNetwork({ Name: name, Driver: "bridge", Internal: true, CheckDuplicate: true, Labels: labels, Options: driverOptions });
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 409) throw error;
  }
}
