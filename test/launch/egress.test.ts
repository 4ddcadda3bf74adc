/**
 * Network allowlists (`router.network: {allow: [...]}`): the matcher, the daemon's egress proxy
 * against real local TCP servers, and, with a real Docker engine, containers that reach the
 * listed host through the proxy and nothing else. Every target is a server this test starts
 * on the host; nothing leaves the machine.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { Server } from "node:http";
import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import Docker from "dockerode";
import { pino } from "pino";
import { bridgeGateway } from "../../src/launch/docker/bridge-gateway.js";
import { callTool } from "../../src/launch/call-tool.js";
import { containerSpec } from "../../src/launch/docker/container-spec.js";
import { DockerLauncher } from "../../src/launch/docker/docker-launcher.js";
import { EgressAllowlist } from "../../src/launch/docker/egress-allowlist.js";
import { EgressProxy } from "../../src/launch/docker/egress-proxy.js";
import { isLaunchError } from "../../src/launch/errors.js";
import { staticSecretSource } from "../../src/secrets/secret-source.js";
import type { RegistryServer } from "../../src/registry/types.js";
import { describeWhen, dockerUnlessCi, ensureTestImages, listOurContainers, testDataDir } from "../support/docker.js";
import { ociPackage, testServer } from "../support/servers.js";

const OWNER = "test-egress";
const logger = pino({ level: process.env.LOG_LEVEL ?? "silent" });
const hasDocker = await dockerUnlessCi();

/** An HTTP server answering `name` to every request, on `host` and a free port. */
async function target(name: string, host: string): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => res.end(name));
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** Raw exchange with the proxy: the first response's status line and body. */
function raw(port: number, request: string, then?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(request));
    let buffer = "";
    let tunnelled = false;
    socket.on("data", (chunk) => {
      buffer += chunk.toString();
      const end = buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(buffer)?.[1]);
      if (then && status === 200 && !tunnelled) {
        tunnelled = true;
        buffer = "";
        socket.write(then);
        return;
      }
      if (/content-length: (\d+)/i.test(buffer) && buffer.length - end - 4 < Number(/content-length: (\d+)/i.exec(buffer)?.[1])) return;
      socket.destroy();
      resolve({ status, body: buffer.slice(end + 4) });
    });
    socket.on("error", reject);
  });
}

const basic = (credentials: string) => `Proxy-Authorization: Basic ${Buffer.from(credentials.replace(/^[^:]*/, (u) => decodeURIComponent(u))).toString("base64")}\r\n`;

describe("EgressAllowlist", () => {
  it("matches names exactly, wildcards on subdomains only, IPs and CIDR blocks, and ports", () => {
    const list = new EgressAllowlist(["api.github.com", "*.npmjs.org", "10.0.0.0/8", "192.168.1.5:8080", "[::1]:9000", "Files.Example.com:21"]);
    assert.equal(list.allows("api.github.com", 443), true);
    assert.equal(list.allows("API.GitHub.com.", 80), true, "case and a trailing dot do not matter");
    assert.equal(list.allows("api.github.com", 22), false, "no :port means 80 and 443 only");
    assert.equal(list.allows("evil-api.github.com", 443), false);
    assert.equal(list.allows("github.com", 443), false);
    assert.equal(list.allows("registry.npmjs.org", 443), true);
    assert.equal(list.allows("npmjs.org", 443), false, "*.x does not match x itself");
    assert.equal(list.allows("npmjs.org.evil.com", 443), false);
    assert.equal(list.allows("10.200.3.4", 443), true);
    assert.equal(list.allows("11.0.0.1", 443), false);
    assert.equal(list.allows("192.168.1.5", 8080), true);
    assert.equal(list.allows("192.168.1.5", 443), false);
    assert.equal(list.allows("::1", 9000), true);
    assert.equal(list.allows("[::1]", 9000), true);
    assert.equal(list.allows("files.example.com", 21), true);
    assert.equal(new EgressAllowlist(["localhost"]).allows("127.0.0.1", 443), false, "a name never matches an address");
  });
});

describe("EgressProxy (real local targets)", () => {
  let proxy: EgressProxy;
  let allowed: { server: Server; port: number };
  let other: { server: Server; port: number };
  let credentials: string;

  before(async () => {
    allowed = await target("allowed", "127.0.0.1");
    other = await target("other", "127.0.0.1");
    // The targets are on loopback: this proxy runs under a policy that allows private targets.
    proxy = await EgressProxy.start({ host: "127.0.0.1", logger, privateTargets: true });
    credentials = proxy.grant("hash-1", "weather", [`127.0.0.1:${allowed.port}`]);
  });
  after(async () => {
    await proxy.close();
    allowed.server.close();
    other.server.close();
  });

  it("tunnels CONNECT to a listed host and forwards absolute-form HTTP", async () => {
    const tunnel = await raw(proxy.port, `CONNECT 127.0.0.1:${allowed.port} HTTP/1.1\r\nHost: x\r\n${basic(credentials)}\r\n`, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert.deepEqual(tunnel, { status: 200, body: "allowed" });
    const forwarded = await raw(proxy.port, `GET http://127.0.0.1:${allowed.port}/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${basic(credentials)}\r\n`);
    assert.deepEqual(forwarded, { status: 200, body: "allowed" });
  });

  it("refuses a host that is not listed (403, saying what to add), and unknown credentials (407)", async () => {
    const denied = await raw(proxy.port, `CONNECT 127.0.0.1:${other.port} HTTP/1.1\r\nHost: x\r\n${basic(credentials)}\r\n`);
    assert.equal(denied.status, 403);
    assert.match(denied.body, new RegExp(`127\\.0\\.0\\.1:${other.port} is not on the network allowlist of server weather`));
    assert.match(denied.body, /router\.network\.allow/);
    const forwarded = await raw(proxy.port, `GET http://127.0.0.1:${other.port}/ HTTP/1.1\r\nHost: x\r\n${basic(credentials)}\r\n`);
    assert.equal(forwarded.status, 403);
    assert.equal((await raw(proxy.port, `CONNECT 127.0.0.1:${allowed.port} HTTP/1.1\r\nHost: x\r\n\r\n`)).status, 407);
    assert.equal((await raw(proxy.port, `CONNECT 127.0.0.1:${allowed.port} HTTP/1.1\r\nHost: x\r\n${basic(`weather:${"0".repeat(48)}`)}\r\n`)).status, 407);
    proxy.revoke("hash-1");
    assert.equal((await raw(proxy.port, `CONNECT 127.0.0.1:${allowed.port} HTTP/1.1\r\nHost: x\r\n${basic(credentials)}\r\n`)).status, 407, "a revoked grant is gone");
    credentials = proxy.grant("hash-1", "weather", [`127.0.0.1:${allowed.port}`]);
    assert.deepEqual(proxy.counts, { allowed: 2, denied: 2, unauthorized: 3 });
  });

  it("answers 502 when a listed host does not answer", async () => {
    const closed = await target("closed", "127.0.0.1");
    closed.server.close();
    const grant = proxy.grant("hash-2", "gone", [`127.0.0.1:${closed.port}`]);
    const answer = await raw(proxy.port, `CONNECT 127.0.0.1:${closed.port} HTTP/1.1\r\nHost: x\r\n${basic(grant)}\r\n`);
    assert.equal(answer.status, 502);
    assert.match(answer.body, /ECONNREFUSED/);
  });
});

describe("EgressProxy under the default policy (no private targets)", () => {
  let proxy: EgressProxy;
  let service: { server: Server; port: number };

  before(async () => {
    service = await target("loopback-only", "127.0.0.1");
    proxy = await EgressProxy.start({ host: "127.0.0.1", logger });
  });
  after(async () => {
    await proxy.close();
    service.server.close();
  });

  it("refuses a listed loopback address, a listed name that resolves to loopback, and the metadata address (403)", async () => {
    const grant = proxy.grant("hash-p", "sneaky", [`127.0.0.1:${service.port}`, `localhost:${service.port}`, "169.254.169.254"]);
    for (const request of [
      `CONNECT 127.0.0.1:${service.port} HTTP/1.1\r\nHost: x\r\n${basic(grant)}\r\n`,
      `CONNECT localhost:${service.port} HTTP/1.1\r\nHost: x\r\n${basic(grant)}\r\n`,
      `GET http://localhost:${service.port}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${basic(grant)}\r\n`,
      `GET http://169.254.169.254/latest/meta-data/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${basic(grant)}\r\n`,
    ]) {
      const answer = await raw(proxy.port, request);
      assert.equal(answer.status, 403, request.split("\r\n")[0]);
      assert.match(answer.body, /loopback, private or link-local/);
      assert.match(answer.body, /privateTargets/);
    }
    assert.equal(proxy.counts.allowed, 4, "the allowlist let them through; the address check refused them");
  });

  it("`network: public` allows any host on 80 and 443 only", () => {
    const list = new EgressAllowlist("public");
    assert.equal(list.allows("example.com", 443), true);
    assert.equal(list.allows("example.com", 22), false);
  });
});

describeWhen(hasDocker, "containers with a network allowlist (real Docker engine)", {}, () => {
  const docker = new Docker();
  let launcher: DockerLauncher;
  let listed: { server: Server; port: number };
  let unlisted: { server: Server; port: number };
  let allowServer: RegistryServer;
  let bridgeServer: RegistryServer;
  let hostOnBridge: string;

  const http = async (server: RegistryServer, args: Record<string, unknown>): Promise<{ status?: number; body?: string; error?: string }> => {
    const result = (await callTool(launcher, server, "http", args)) as CallToolResult;
    const first = result.content[0];
    assert.ok(first?.type === "text");
    return JSON.parse(first.text) as { status?: number; body?: string; error?: string };
  };

  before(async () => {
    const images = await ensureTestImages();
    // The listed target only on loopback: the proxy (on the host) reaches it, a container never could.
    listed = await target("listed", "127.0.0.1");
    // The unlisted one on every interface, so a container could reach it if anything let it out.
    unlisted = await target("unlisted", "0.0.0.0");
    // The host's address on the default bridge, found the way the product finds it (a first engine start reports no Gateway).
    hostOnBridge = bridgeGateway(await docker.getNetwork("bridge").inspect()) ?? "";
    assert.ok(hostOnBridge, "the default bridge has an IPv4 address for the host");
    allowServer = testServer("egress-probe", ociPackage(images.probe), { network: { allow: [`127.0.0.1:${listed.port}`] } });
    bridgeServer = testServer("bridge-probe", ociPackage(images.probe), { network: "bridge" });
    launcher = await DockerLauncher.create({
      docker,
      logger,
      secrets: staticSecretSource({}),
      dataDir: testDataDir(),
      owner: OWNER,
      baseImages: { node: images.nodeBase },
      pool: false,
      // The listed target is on the host's loopback: a policy with private targets allowed.
      privateTargets: true,
    });
  });
  after(async () => {
    await launcher?.close();
    listed?.server.close();
    unlisted?.server.close();
    assert.deepEqual(await listOurContainers(OWNER), [], "no container (nor the relay) is left");
  });

  it("reaches a listed host through the proxy, by CONNECT and by absolute-form HTTP", async () => {
    assert.deepEqual(await http(allowServer, { url: `http://127.0.0.1:${listed.port}/` }), { status: 200, body: "listed" });
    assert.deepEqual(await http(allowServer, { url: `http://127.0.0.1:${listed.port}/`, via: "forward" }), { status: 200, body: "listed" });
  });

  it("is refused an unlisted host by the proxy, and cannot go around it", async () => {
    const denied = await http(allowServer, { url: `http://${hostOnBridge}:${unlisted.port}/` });
    assert.equal(denied.status, 403);
    assert.match(denied.body ?? "", /not on the network allowlist of server egress-probe/);
    assert.equal((await http(allowServer, { url: `http://127.0.0.1:${listed.port}/`, auth: false })).status, 407);
    // Directly: the host's interfaces are not reachable from the egress network ...
    const direct = await http(allowServer, { url: `http://${hostOnBridge}:${unlisted.port}/`, via: "direct" });
    assert.ok(direct.error, `direct connection must fail, got ${JSON.stringify(direct)}`);
    // ... and names do not resolve (no DNS path out either) ...
    const net = (await callTool(launcher, allowServer, "net", { host: "registry.npmjs.org" })) as CallToolResult;
    assert.ok(net.content[0]?.type === "text");
    assert.notEqual((JSON.parse(net.content[0].text) as { dns: string }).dns, "resolved");
    // ... while the very same probe from an unrestricted container gets through, so the probe can succeed.
    assert.deepEqual(await http(bridgeServer, { url: `http://${hostOnBridge}:${unlisted.port}/`, via: "direct" }), { status: 200, body: "unlisted" });
  });

  it("gets the proxy (with its credentials) in env, never in argv", async () => {
    const lease = await launcher.acquire(allowServer, { sessionId: "s" });
    try {
      const info = await docker.getContainer(lease.containerId ?? "").inspect();
      const proxyVar = info.Config.Env.find((e) => e.startsWith("HTTPS_PROXY="));
      assert.match(proxyVar ?? "", /^HTTPS_PROXY=http:\/\/egress-probe:[0-9a-f]{48}@[\d.]+:3128$/);
      const token = /:([0-9a-f]{48})@/.exec(proxyVar ?? "")?.[1] ?? "";
      assert.ok(!JSON.stringify([info.Path, info.Args, info.Config.Cmd, info.Config.Entrypoint]).includes(token));
      assert.equal(info.HostConfig.NetworkMode, "mcp-router-egress");
    } finally {
      lease.release();
    }
    const network = await docker.getNetwork("mcp-router-egress").inspect();
    assert.equal(network.Internal, true);
    assert.equal(network.Options?.["com.docker.network.bridge.inhibit_ipv4"], "true");
  });

  it("a spec for an allowlisted server needs the proxy: without one it fails, never falls back to open egress", () => {
    assert.throws(
      () => containerSpec(allowServer, { image: "x", secrets: staticSecretSource({}), owner: OWNER }),
      (e: unknown) => isLaunchError(e) && e.reason === "EGRESS_UNAVAILABLE",
    );
  });
});
