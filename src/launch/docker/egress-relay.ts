/**
 * Wiring for network allowlists. Containers of a server with `router.network: {allow: [...]}`
 * join `mcp-router-egress`: an internal Docker network whose bridge has no host address
 * (`inhibit_ipv4`), so nothing on it can reach the internet or the host. The one way out is a
 * small relay container of ours on that network (and on the default bridge) that pipes every
 * connection to the daemon's EgressProxy, which checks the allowlist of the server whose
 * credentials the request carries. Each server version gets its own credentials, as
 * `HTTP_PROXY`/`HTTPS_PROXY` in its containers' env.
 */
import type Docker from "dockerode";
import type { Logger } from "pino";
import type { RegistryServer } from "../../registry/types.js";
import { bridgeGateway } from "./bridge-gateway.js";
import { LABELS } from "./container-spec.js";
import { EgressProxy } from "./egress-proxy.js";
import { LaunchError } from "../errors.js";
import { ensureInternalNetwork } from "./http-endpoint.js";

/** The network allowlisted servers join: internal, and without a host address on its bridge. */
export const EGRESS_NETWORK = "mcp-router-egress";
const RELAY_PORT = 3128;
/** The relay: accept on RELAY_PORT, pipe to the proxy at argv host:port. Nothing else. */
const RELAY_SOURCE = `const net = require("node:net");
const [host, port] = process.argv.slice(1);
net.createServer((c) => {
  const u = net.connect(Number(port), host);
  const end = () => { c.destroy(); u.destroy(); };
  c.on("error", end); u.on("error", end); c.on("close", end); u.on("close", end);
  c.pipe(u); u.pipe(c);
}).listen(${RELAY_PORT});`;

export interface EgressRoute {
  /** The Docker network the server's containers join. */
  network: string;
  /**
   * `http://<prefix>:<token>@<relay>:3128`: a credential, treat like a secret. It stays valid
   * until the launcher closes, so calls still running on a retired version keep their egress.
   */
  proxyUrl: string;
}

export interface EgressRelayOptions {
  docker: Docker;
  logger: Logger;
  owner: string;
  /** An image with `node` (the launcher's node base image). */
  image: string;
  /** The proxy may connect to loopback, private and link-local addresses (operator policy; default no). */
  privateTargets?: boolean;
}

interface Running {
  proxy: EgressProxy;
  relay: Docker.Container;
  /** The relay's address on each network it joined. */
  addresses: Map<string, Promise<string>>;
}

export class EgressRelay {
  private running: Promise<Running> | undefined;
  private checkedAt = 0;

  constructor(private readonly options: EgressRelayOptions) {}

  /**
   * Where a container of `server` goes and which proxy credentials it gets. `network` is the
   * network it must be on: EGRESS_NETWORK for stdio servers; servers reached over HTTP stay on
   * the internal network the daemon can reach, and the relay joins that one too.
   */
  async route(server: RegistryServer, allow: readonly string[] | "public", network: string = EGRESS_NETWORK): Promise<EgressRoute> {
    const running = await this.ensure();
    let address = running.addresses.get(network);
    if (!address) {
      address = this.join(running.relay, network);
      running.addresses.set(network, address);
      address.catch(() => running.addresses.delete(network));
    }
    const credentials = running.proxy.grant(server.hash, server.prefix, allow);
    return { network, proxyUrl: `http://${credentials}@${await address}:${RELAY_PORT}` };
  }

  async close(): Promise<void> {
    const running = await this.running?.catch(() => undefined);
    this.running = undefined;
    if (!running) return;
    await Promise.all([running.proxy.close(), running.relay.remove({ force: true }).catch(() => undefined)]);
  }

  /** Starts proxy and relay once; starts the relay again if it has died since (checked at most every 5 s). */
  private async ensure(): Promise<Running> {
    if (this.running && Date.now() - this.checkedAt > 5_000) {
      this.checkedAt = Date.now();
      const running = await this.running.catch(() => undefined);
      const alive = running ? await running.relay.inspect().then((i) => i.State.Running, () => false) : false;
      if (!alive) {
        if (running) this.options.logger.warn("egress relay is gone; starting it again");
        await running?.proxy.close();
        this.running = undefined;
      }
    }
    if (!this.running) {
      this.checkedAt = Date.now();
      this.running = this.start();
      this.running.catch(() => (this.running = undefined));
    }
    return this.running;
  }

  private async start(): Promise<Running> {
    const { docker, owner, image } = this.options;
    const bridge = await docker.getNetwork("bridge").inspect().catch(() => undefined);
    const gateway = bridgeGateway(bridge);
    if (!gateway) throw unavailable("the engine's default bridge network has no IPv4 address for the host");
    let proxy: EgressProxy;
    try {
      proxy = await EgressProxy.start({ host: gateway, logger: this.options.logger, ...(this.options.privateTargets ? { privateTargets: true } : {}) });
    } catch (error) {
      throw unavailable(`the proxy cannot listen on the bridge gateway ${gateway} (${(error as Error).message}); the daemon must run on the Docker host`);
    }
    try {
      await ensureInternalNetwork(docker, EGRESS_NETWORK, { [LABELS.managed]: "true" }, { "com.docker.network.bridge.inhibit_ipv4": "true" });
      const name = `mcp-router-egress-relay-${owner}`;
      await docker.getContainer(name).remove({ force: true }).catch(() => undefined);
      const relay = await docker.createContainer({
        name,
        Image: image,
        Entrypoint: ["node"],
        Cmd: ["-e", RELAY_SOURCE, gateway, String(proxy.port)],
        User: "65534:65534",
        Labels: { [LABELS.managed]: "true", [LABELS.owner]: owner, [LABELS.server]: "egress-relay" },
        HostConfig: {
          Init: true,
          ReadonlyRootfs: true,
          CapDrop: ["ALL"],
          SecurityOpt: ["no-new-privileges"],
          PidsLimit: 64,
          Memory: 64 * 1024 * 1024,
          NetworkMode: "bridge",
          LogConfig: { Type: "none", Config: {} },
          RestartPolicy: { Name: "on-failure", MaximumRetryCount: 5 },
        },
      });
      await relay.start();
      this.options.logger.info({ proxy: `${gateway}:${proxy.port}` }, "egress relay started");
      return { proxy, relay, addresses: new Map() };
    } catch (error) {
      await proxy.close();
      throw error instanceof LaunchError ? error : unavailable(`starting the egress relay failed: ${(error as Error).message}`);
    }
  }

  private async join(relay: Docker.Container, network: string): Promise<string> {
    if (network === EGRESS_NETWORK || !(await relay.inspect()).NetworkSettings.Networks[network]) {
      await this.options.docker
        .getNetwork(network)
        .connect({ Container: relay.id })
        .catch((error: { statusCode?: number; message?: string }) => {
          // 403: already connected
          if (error.statusCode !== 403 && !/already exists/.test(error.message ?? "")) throw error;
        });
    }
    const ip = (await relay.inspect()).NetworkSettings.Networks[network]?.IPAddress;
    if (!ip) throw unavailable(`the egress relay has no address on ${network}`);
    return ip;
  }
}

function unavailable(what: string): LaunchError {
  return new LaunchError(
    "EGRESS_UNAVAILABLE",
    `network allowlists cannot be enforced: ${what}`,
    "Run the daemon on the Docker host (or with network_mode: host), or give the server `network: bridge` if unrestricted egress is acceptable.",
  );
}
