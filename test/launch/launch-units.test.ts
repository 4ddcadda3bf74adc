import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { ConfigError } from "../../src/config-error.js";
import { bridgeGateway } from "../../src/launch/docker/bridge-gateway.js";
import { ContainerSlots } from "../../src/launch/docker/container-slots.js";
import { ContainerTransport } from "../../src/launch/docker/container-transport.js";
import { DeferredLauncher } from "../../src/launch/deferred-launcher.js";
import { isLaunchError } from "../../src/launch/errors.js";
import type { Launcher } from "../../src/launch/launcher.js";
import { npmBinPath, npmDockerfile, ociReference, preparedKey, pypiDockerfile, pypiInstallArgv } from "../../src/launch/docker/package-preparer.js";
import { scrubSecrets } from "../../src/secrets/secret-scrubber.js";
import { chainSecretSources, envSecretSource, fileSecretSource, parseSecretsFile } from "../../src/secrets/secret-source.js";
import type { RegistryServer } from "../../src/registry/types.js";
import { DEFAULT_POOL_SIZING, DemandTracker, poolTarget, WarmPool } from "../../src/launch/docker/warm-pool.js";
import type { PoolSizing } from "../../src/launch/docker/warm-pool.js";
import { pino } from "pino";
import { npmPackage, testServer } from "../support/servers.js";

describe("secrets", () => {
  it("parses KEY=VALUE files and JSON files", () => {
    assert.deepEqual(parseSecretsFile("# c\nA=1\nexport B = 'two'\nC=\"x=y\"\n\n", "f"), { A: "1", B: "two", C: "x=y" });
    assert.deepEqual(parseSecretsFile('{"A": "1"}', "f"), { A: "1" });
  });

  it("reports a bad line by number, never its content", () => {
    assert.throws(() => parseSecretsFile("A=1\nthis is secret-ish\n", "s.env"), (e: unknown) => {
      assert.ok(e instanceof ConfigError && e.code === "SECRETS_FILE_INVALID");
      assert.match(e.message, /line 2/);
      assert.doesNotMatch(e.message, /secret-ish/);
      return true;
    });
    assert.throws(() => parseSecretsFile('{"A": 1}', "s.json"), /not a string/);
  });

  it("chains env and file sources; empty env values count as unset", async () => {
    const dir = await mkdtemp(join(tmpdir(), "secrets-"));
    const file = join(dir, "s.env");
    await writeFile(file, "TOKEN=from-file\nBOTH=file\n");
    const env = { MCP_ROUTER_SECRET_BOTH: "env", MCP_ROUTER_SECRET_EMPTY: "", PATH: "/usr/bin", MCP_ROUTER_API_KEYS: "gateway-key" };
    const source = chainSecretSources(envSecretSource(env), fileSecretSource(file));
    assert.equal(source.get("TOKEN"), "from-file");
    assert.equal(source.get("BOTH"), "env");
    assert.equal(source.get("EMPTY"), undefined);
    // Only the explicit prefix is granted: the rest of the daemon's environment is not a secret store.
    assert.equal(source.get("PATH"), undefined);
    assert.equal(source.get("MCP_ROUTER_API_KEYS"), undefined);
    assert.match(source.description, /environment \(MCP_ROUTER_SECRET_<NAME>\) or the secrets file/);
    assert.throws(() => fileSecretSource(join(dir, "missing")), /cannot read secrets file/);
  });

  it("scrubs values from text", () => {
    assert.equal(scrubSecrets("token abcd1234 leaked", ["abcd1234"]), "token *** leaked");
  });
});

describe("ContainerSlots", () => {
  it("caps globally and per key, queues FIFO, refuses when the queue is full", async () => {
    const slots = new ContainerSlots(2, 1);
    const a = await slots.acquire("s", 5, "s");
    const b = await slots.acquire("s", 5, "s");
    const waiting = slots.acquire("s", 5, "s");
    await assert.rejects(slots.acquire("s", 5, "s"), (e: unknown) => isLaunchError(e, "SATURATED") && /2\/2 containers/.test((e as Error).message));
    assert.equal(slots.tryAcquire("t", 5), undefined);
    a();
    const c = await waiting;
    assert.equal(slots.inUse, 2);
    b();
    c();
    assert.equal(slots.inUse, 0);
  });

  it("per-key limit and abort while waiting", async () => {
    const slots = new ContainerSlots(10, 10);
    const a = await slots.acquire("s", 1, "s");
    const controller = new AbortController();
    const waiting = slots.acquire("s", 1, "s", controller.signal);
    const other = await slots.acquire("t", 1, "t");
    controller.abort();
    await assert.rejects(waiting, (e: unknown) => isLaunchError(e, "ABORTED"));
    assert.equal(slots.queued, 0);
    a();
    other();
    const closedWait = (async () => {
      const x = await slots.acquire("s", 1, "s");
      const p = slots.acquire("s", 1, "s");
      slots.close();
      x();
      return p;
    })();
    await assert.rejects(closedWait, (e: unknown) => isLaunchError(e, "LAUNCHER_CLOSED"));
  });

  it("refills never take the last free slot", () => {
    const slots = new ContainerSlots(2, 4);
    assert.ok(slots.tryAcquire("s", 9, 1));
    assert.equal(slots.tryAcquire("s", 9, 1), undefined);
  });
});

describe("warm pool sizing", () => {
  const sizing = { ...DEFAULT_POOL_SIZING, min: 1, max: 4, windowMs: 10_000, idleMs: 60_000 };
  it("is zero before any demand and after the idle time", () => {
    assert.equal(poolTarget({ arrivalsInWindow: 0, windowMs: 10_000, startLatencyMs: 500, msSinceLastArrival: Infinity, sizing }), 0);
    assert.equal(poolTarget({ arrivalsInWindow: 3, windowMs: 10_000, startLatencyMs: 500, msSinceLastArrival: 60_001, sizing }), 0);
  });
  it("grows with arrival rate x start latency, within [min, max]", () => {
    assert.equal(poolTarget({ arrivalsInWindow: 1, windowMs: 10_000, startLatencyMs: 500, msSinceLastArrival: 5, sizing }), 2);
    assert.equal(poolTarget({ arrivalsInWindow: 40, windowMs: 10_000, startLatencyMs: 500, msSinceLastArrival: 5, sizing }), 3);
    assert.equal(poolTarget({ arrivalsInWindow: 1000, windowMs: 10_000, startLatencyMs: 500, msSinceLastArrival: 5, sizing }), 4);
  });
  it("DemandTracker forgets arrivals outside the window", () => {
    const demand = new DemandTracker(sizing);
    for (let i = 0; i < 100; i++) demand.arrive(i);
    assert.equal(demand.target(100), 4);
    assert.equal(demand.target(50_000), 1);
    assert.equal(demand.target(200_000), 0);
  });
});

describe("package preparation (pure parts)", () => {
  const npm = { registryType: "npm", identifier: "@scope/srv", version: "1.2.3", transport: { type: "stdio" as const } };
  it("keys prepared images by content", () => {
    assert.equal(preparedKey("npm", "node:24-slim", npm), preparedKey("npm", "node:24-slim", { ...npm }));
    assert.notEqual(preparedKey("npm", "node:24-slim", npm), preparedKey("npm", "node:22-slim", npm));
    assert.notEqual(preparedKey("npm", "node:24-slim", npm), preparedKey("npm", "node:24-slim", { ...npm, version: "1.2.4" }));
  });
  it("npm: Dockerfile copies host-installed node_modules and runs the package's bin with node", () => {
    assert.equal(npmBinPath("@scope/srv", { bin: { srv: "dist/index.js", other: "x.js" } }), "dist/index.js");
    assert.equal(npmBinPath("@scope/srv", { bin: "cli.js" }), "cli.js");
    assert.throws(() => npmBinPath("@scope/srv", {}), /declares no bin/);
    const dockerfile = npmDockerfile("node:24-slim", "@scope/srv", "dist/index.js", "k1");
    assert.match(dockerfile, /^FROM node:24-slim\nCOPY node_modules \/opt\/mcp\/node_modules\n/);
    assert.match(dockerfile, /ENTRYPOINT \["node","\/opt\/mcp\/node_modules\/@scope\/srv\/dist\/index.js"\]/);
  });
  it("pypi: a uv builder stage installs the pinned version into a venv copied onto the base (PyPI is unreachable here: not run)", () => {
    const pkg = { registryType: "pypi", identifier: "mcp-server-time", version: "0.6.2", transport: { type: "stdio" as const } };
    assert.deepEqual(pypiInstallArgv(pkg), ["uv", "pip", "install", "--python", "/opt/mcp/venv/bin/python", "--no-cache", "mcp-server-time==0.6.2"]);
    assert.deepEqual(pypiInstallArgv({ ...pkg, registryBaseUrl: "https://test.pypi.org/simple" }).slice(-3), ["--index-url", "https://test.pypi.org/simple", "mcp-server-time==0.6.2"]);
    const dockerfile = pypiDockerfile("uv-python:3.12", pkg, "k2");
    assert.match(dockerfile, /^FROM uv-python:3.12 AS build\nRUN \["uv","venv","\/opt\/mcp\/venv"\]\n/);
    assert.match(dockerfile, /COPY --from=build \/opt\/mcp\/venv \/opt\/mcp\/venv/);
    assert.match(dockerfile, /ENTRYPOINT \["mcp-server-time"\]/);
  });
  it("oci: uses the image reference as is, adding the version as tag when there is none", () => {
    const oci = { registryType: "oci", identifier: "ghcr.io/x/y", version: "2.0", transport: { type: "stdio" as const } };
    assert.equal(ociReference(oci), "ghcr.io/x/y:2.0");
    assert.equal(ociReference({ ...oci, identifier: "localhost:5000/x:1" }), "localhost:5000/x:1");
    assert.equal(ociReference({ ...oci, identifier: "x@sha256:abc" }), "x@sha256:abc");
  });
});

describe("ContainerTransport", () => {
  it("frames newline-delimited JSON-RPC both ways, keeps a capped stderr tail, closes on stdout end", async () => {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const transport = new ContainerTransport({ stdin, stdout, stderr, stderrLimit: 32 });
    const received: JSONRPCMessage[] = [];
    let closed = false;
    transport.onmessage = (m) => received.push(m);
    transport.onclose = () => {
      closed = true;
    };
    await transport.start();
    await transport.send({ jsonrpc: "2.0", id: 1, method: "ping" });
    assert.equal(stdin.read()?.toString(), '{"jsonrpc":"2.0","id":1,"method":"ping"}\n');
    stdout.write('{"jsonrpc":"2.0","id":1,"res');
    stdout.write('ult":{}}\n{"jsonrpc":"2.0","method":"notifications/x"}\n');
    stderr.write("line one is long enough to be cut\nlast line\n");
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(received, [{ jsonrpc: "2.0", id: 1, result: {} }, { jsonrpc: "2.0", method: "notifications/x" }]);
    assert.ok(transport.stderrTail().length <= 32);
    assert.deepEqual(transport.stderrLines(1), ["last line"]);
    stdout.end();
    await new Promise((r) => setImmediate(r));
    assert.equal(closed, true);
    await assert.rejects(transport.send({ jsonrpc: "2.0", id: 2, method: "ping" }), /closed/);
  });
});

describe("bridge gateway address", () => {
  const docker0 = { docker0: [{ address: "172.17.0.1", netmask: "255.255.0.0", family: "IPv4" as const, mac: "", internal: false, cidr: "172.17.0.1/16" }] };
  const options = { "com.docker.network.bridge.name": "docker0" };

  it("takes the reported Gateway when there is one", () => {
    assert.equal(bridgeGateway({ IPAM: { Config: [{ Subnet: "172.18.0.0/16", Gateway: "172.18.0.1" }] }, Options: options }, docker0), "172.18.0.1");
  });

  it("on a first engine start (subnet only) takes the bridge interface's address", () => {
    assert.equal(bridgeGateway({ IPAM: { Config: [{ Subnet: "172.17.0.0/16" }] }, Options: options }, docker0), "172.17.0.1");
  });

  it("ignores an interface address outside the subnet and falls back to the subnet's first host", () => {
    assert.equal(bridgeGateway({ IPAM: { Config: [{ Subnet: "10.99.0.0/24" }] }, Options: options }, docker0), "10.99.0.1");
    assert.equal(bridgeGateway({ IPAM: { Config: [{ Subnet: "192.168.5.128/25" }] }, Options: { "com.docker.network.bridge.name": "br-x" } }, {}), "192.168.5.129");
  });

  it("has no answer without an IPv4 subnet", () => {
    assert.equal(bridgeGateway({ IPAM: { Config: [] } }, {}), undefined);
    assert.equal(bridgeGateway(undefined, {}), undefined);
    assert.equal(bridgeGateway({ IPAM: { Config: [{ Subnet: "fd00::/64" }] } }, {}), undefined);
  });
});

describe("deferred launcher (an engine that comes up after the daemon)", () => {
  const server = { prefix: "p" } as RegistryServer;
  const fake = (): Launcher & { prepared: string[] } => {
    const prepared: string[] = [];
    return {
      prepared,
      prepare: async (s) => void prepared.push(s.prefix),
      acquire: () => Promise.reject(new Error("unused")),
      endSession: async () => undefined,
      retire: async () => undefined,
      stats: () => ({ containers: 1, maxContainers: 8, queued: 0, started: 1, poolHits: 0, poolMisses: 0, servers: [] }),
      close: async () => undefined,
    };
  };

  it("fails fast with the reason while the engine is down, retries after retryMs, and recovers without a restart", async () => {
    let now = 0;
    let up = false;
    let attempts = 0;
    let recovered = 0;
    const real = fake();
    const deferred = await new DeferredLauncher({
      create: async () => {
        attempts++;
        if (!up) throw Object.assign(new Error("no Docker engine answers"), { hint: "Start Docker." });
        return real;
      },
      retryMs: 1000,
      now: () => now,
      onRecovered: () => recovered++,
    }).start();
    assert.equal(deferred.available, false);
    assert.equal(deferred.unavailableReason?.reason, "ENGINE_UNAVAILABLE");
    assert.deepEqual(deferred.stats().servers, []);
    await assert.rejects(deferred.prepare(server), (e: unknown) => isLaunchError(e, "ENGINE_UNAVAILABLE") && /Start Docker/.test(e.message));
    assert.equal(attempts, 1, "within retryMs the last reason is given again without a new attempt");
    up = true;
    now = 1500;
    await deferred.prepare(server);
    assert.deepEqual([attempts, recovered, real.prepared, deferred.available, deferred.stats().containers], [2, 1, ["p"], true, 1]);
    await deferred.close();
  });
});

describe("public-only connections (operator policy without private targets)", () => {
  it("refuses loopback by address and by name, before any byte is sent, and lets a public name resolve", async () => {
    const { publicOnlyFetch, TARGET_REFUSED } = await import("../../src/launch/target-guard.js");
    const { createServer } = await import("node:http");
    let hits = 0;
    const server = createServer((_req, res) => {
      hits += 1;
      res.end("internal");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const guarded = publicOnlyFetch();
    try {
      for (const url of [`http://127.0.0.1:${port}/`, `http://localhost:${port}/`, "http://169.254.169.254/latest/meta-data/", `http://[::ffff:127.0.0.1]:${port}/`]) {
        await assert.rejects(guarded(url), (e: Error & { cause?: { code?: string; message?: string } }) => {
          assert.equal(e.cause?.code, TARGET_REFUSED, `${url}: ${e.cause?.message ?? e.message}`);
          assert.match(e.cause?.message ?? "", /privateTargets/);
          return true;
        });
      }
      assert.equal(hits, 0, "nothing reached the loopback service");
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), "internal", "the service is there for an unguarded client");
    } finally {
      server.close();
    }
  });
});

describe("WarmPool: a call that finds the pool empty waits for a container already warming", () => {
  const server = testServer("pooled", npmPackage("@modelcontextprotocol/server-memory"));
  /** A pool whose starts resolve when the test says so. */
  const pool = (sizing: PoolSizing | false = { ...DEFAULT_POOL_SIZING, min: 1, max: 1 }) => {
    const starts: { resolve(i: { id: number }): void; reject(e: Error): void }[] = [];
    const destroyed: number[] = [];
    let id = 0;
    const warm = new WarmPool<{ id: number }>({
      sizing,
      slots: new ContainerSlots(8, 8),
      logger: pino({ level: "silent" }),
      start: () => new Promise((resolve, reject) => starts.push({ resolve: (i) => resolve(i), reject })),
      destroy: (instance) => void destroyed.push(instance.id),
      exited: () => false,
    });
    return { warm, starts, destroyed, next: () => ({ id: ++id }) };
  };

  it("hands the warming container to the waiting call instead of leaving it to start its own", async () => {
    const { warm, starts } = pool();
    assert.equal(warm.take(server), undefined, "nothing warm yet; the arrival starts a warm-up");
    assert.equal(starts.length, 1);
    const waiting = warm.takeOrWait(server);
    starts[0]?.resolve({ id: 7 });
    assert.deepEqual(await waiting, { id: 7 });
    warm.close();
  });

  it("in a burst, only as many callers wait as containers are warming; the others start their own at once", async () => {
    const { warm, starts } = pool();
    warm.take(server);
    assert.equal(starts.length, 1, "one container warming");
    const first = warm.takeOrWait(server);
    const second = await warm.takeOrWait(server);
    assert.equal(second, undefined, "the one warming container is promised to the first caller: the second starts its own");
    starts[0]?.resolve({ id: 3 });
    assert.deepEqual(await first, { id: 3 });
    warm.close();
  });

  it("a failed warm-up lets the waiter start its own; an abort ends the wait; with nothing warming there is no wait", async () => {
    const { warm, starts } = pool();
    warm.take(server);
    const waiting = warm.takeOrWait(server);
    starts[0]?.reject(new Error("engine said no"));
    assert.equal(await waiting, undefined);
    const aborted = new AbortController();
    warm.take(server);
    const cancelled = warm.takeOrWait(server, aborted.signal);
    aborted.abort();
    assert.equal(await cancelled, undefined);
    warm.close();
    const off = pool(false);
    assert.equal(await off.warm.takeOrWait(server), undefined, "the pool is off: nothing warms, nobody waits");
    assert.equal(off.starts.length, 0);
    off.warm.close();
  });
});
