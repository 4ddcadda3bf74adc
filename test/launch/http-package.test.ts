/**
 * Servers packaged to speak Streamable HTTP or SSE instead of stdio: started in a container
 * on the internal network (no route out) and reached on the container's own address.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Docker from "dockerode";
import { pino } from "pino";
import { callTool, listTools } from "../../src/launch/call-tool.js";
import { INTERNAL_NETWORK, containerSpec } from "../../src/launch/docker/container-spec.js";
import { DockerLauncher } from "../../src/launch/docker/docker-launcher.js";
import { packageEndpoint } from "../../src/launch/docker/http-endpoint.js";
import { staticSecretSource } from "../../src/secrets/secret-source.js";
import type { Package, RegistryServer } from "../../src/registry/types.js";
import { dockerUnlessCi, ensureTestImages, listOurContainers, testDataDir } from "../support/docker.js";
import { npmPackage, testServer } from "../support/servers.js";

const OWNER = "test-http-package";

function httpEverything(type: "streamable-http" | "sse"): Package {
  return npmPackage("@modelcontextprotocol/server-everything", {
    transport: type === "sse" ? { type, url: "http://localhost:{PORT}/sse" } : { type, url: "http://localhost:{PORT}/mcp" },
    packageArguments: [{ type: "positional", value: type === "sse" ? "sse" : "streamableHttp", valueHint: "transport" }],
    environmentVariables: [{ name: "PORT", value: "3001" }],
  });
}

describe("endpoint of an HTTP package (pure)", () => {
  it("fills placeholders from env and arguments and points at the container", () => {
    const pkg = httpEverything("streamable-http");
    assert.equal(packageEndpoint(pkg, ["PORT=3001"], "172.20.0.5").href, "http://172.20.0.5:3001/mcp");
    const named: Package = { ...pkg, transport: { type: "sse", url: "http://0.0.0.0:{port}/sse" }, packageArguments: [{ type: "named", name: "--port", value: "9000" }] };
    assert.equal(packageEndpoint(named, [], "10.1.2.3").href, "http://10.1.2.3:9000/sse");
    assert.throws(() => packageEndpoint({ ...pkg, environmentVariables: [] }, [], "10.0.0.1"), /unresolved placeholders|does not resolve/);
  });

  it("joins the internal network when it declares no egress, the bridge when it does", () => {
    const server = testServer("http", httpEverything("streamable-http"));
    const spec = containerSpec(server, { image: "x", secrets: staticSecretSource({}), owner: OWNER });
    assert.equal(spec.create.HostConfig?.NetworkMode, INTERNAL_NETWORK);
    assert.equal(spec.create.NetworkDisabled, false);
    const bridged = containerSpec(testServer("http", httpEverything("sse"), { network: "bridge" }), { image: "x", secrets: staticSecretSource({}), owner: OWNER });
    assert.equal(bridged.create.HostConfig?.NetworkMode, "bridge");
  });
});

describe("HTTP packages in containers", { timeout: 240_000 }, () => {
  const docker = new Docker();
  let launcher: DockerLauncher | undefined;
  let streamable: RegistryServer;
  let sse: RegistryServer;

  before(async () => {
    if (!(await dockerUnlessCi())) return;
    const images = await ensureTestImages();
    launcher = await DockerLauncher.create({ docker, logger: pino({ level: "silent" }), secrets: staticSecretSource({}), dataDir: testDataDir(), owner: OWNER, baseImages: { node: images.nodeBase }, pool: false });
    streamable = testServer("everything-http", httpEverything("streamable-http"));
    sse = testServer("everything-sse", httpEverything("sse"));
    await launcher.prepare(streamable);
    await launcher.prepare(sse);
  });

  after(async () => {
    await launcher?.close();
    if (launcher) assert.deepEqual(await listOurContainers(OWNER), [], "no container of ours is left");
  });

  for (const kind of ["streamable-http", "sse"] as const) {
    it(`calls a server that speaks ${kind}, in a fresh container each time`, async (t) => {
      if (!launcher) return t.skip("no Docker engine; skipped outside CI");
      const server = kind === "sse" ? sse : streamable;
      const tools = await listTools(launcher, server);
      assert.ok(tools.some((tool) => tool.name === "echo"), JSON.stringify(tools.map((tool) => tool.name)));
      const result = await callTool(launcher, server, "echo", { message: `over ${kind}` });
      assert.deepEqual(result.content, [{ type: "text", text: `Echo: over ${kind}` }]);
      assert.ok(launcher.stats().started >= 2);
    });
  }

  it("the internal network has no route out", async (t) => {
    if (!launcher) return t.skip("no Docker engine; skipped outside CI");
    const network = await docker.getNetwork(INTERNAL_NETWORK).inspect();
    assert.equal(network.Internal, true);
  });
});
