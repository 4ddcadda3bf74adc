/**
 * The daemon image, run as docker-compose.yml runs it: built from the Dockerfile (by
 * .ci/daemon-image.sh, which names it in MCP_ROUTER_TEST_DAEMON_IMAGE), started with the host's
 * Docker socket and network, serving a registry folder mounted into it; one real tool call goes
 * through it into a per-call container it starts on the host's engine.
 */
import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, it } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { describeWhen, dockerAvailable, listOurContainers, run } from "../support/docker.js";
import { ensureReliabilityProbe, probeYaml } from "./cli-daemon.js";
import { Figures, since, waitFor } from "./figures.js";

const image = process.env.MCP_ROUTER_TEST_DAEMON_IMAGE;
const OWNER = "rel-image";
const KEY = "daemon-image-test-key-0123456789";
const figures = new Figures("the daemon image (Dockerfile), run as docker-compose.yml runs it");

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describeWhen(
  !!image && (await dockerAvailable()),
  "reliability: the daemon image",
  { timeout: 240_000, reason: "needs a Docker engine and MCP_ROUTER_TEST_DAEMON_IMAGE (made by .ci/daemon-image.sh, which .ci/run calls)" },
  () => {
    let dir: string;
    let container: string | undefined;
    let url: URL;

    before(async () => {
      const probe = await ensureReliabilityProbe();
      dir = await mkdtemp(path.join(tmpdir(), "mcp-router-image-"));
      const servers = path.join(dir, "registry", "servers");
      await mkdir(servers, { recursive: true });
      await writeFile(path.join(servers, "img.yaml"), probeYaml("img", probe));
      // The image runs as its `node` user: the mounted registry must be readable by it.
      for (const p of [dir, path.join(dir, "registry"), servers]) await chmod(p, 0o755);
      await chmod(path.join(servers, "img.yaml"), 0o644);
      const port = await freePort();
      url = new URL(`http://127.0.0.1:${port}/`);
      const { stdout: gid } = await run("stat", ["-c", "%g", "/var/run/docker.sock"]);
      const { stdout } = await run("docker", [
        "run", "-d",
        "--network", "host",
        "--group-add", gid.trim(),
        "-v", "/var/run/docker.sock:/var/run/docker.sock",
        "-v", `${path.join(dir, "registry")}:/registry:ro`,
        "-e", `MCP_ROUTER_API_KEYS=${KEY}`,
        "-e", `MCP_ROUTER_OWNER=${OWNER}`,
        "-e", "MCP_ROUTER_WARM_POOL=off",
        image!,
        "serve", "--host", "127.0.0.1", "--port", String(port), "--registry", "/registry",
      ]);
      container = stdout.trim();
    });

    after(async () => {
      let logs = "";
      if (container) {
        logs = await run("docker", ["logs", "--tail", "40", container]).then((r) => r.stdout + r.stderr, () => "");
        await run("docker", ["rm", "-fv", container]).catch(() => undefined);
      }
      await rm(dir, { recursive: true, force: true });
      const left = await listOurContainers(OWNER);
      for (const c of left) await run("docker", ["rm", "-f", c.Id]).catch(() => undefined);
      figures.print();
      if (!figures.rows.every((r) => r.pass)) console.log(`daemon container's last log lines:\n${logs}`);
    });

    it("serves a tool call through the image, in a per-call container on the host's engine", async () => {
      await figures.scenario("image: one tool call", async () => {
        const t0 = performance.now();
        await waitFor(
          "the daemon in the image to be ready",
          async () => {
            const res = await fetch(new URL("readyz", url)).catch(() => undefined);
            return res?.status === 200 ? true : undefined;
          },
          120_000,
          250,
        );
        const readyMs = since(t0);
        const client = new Client({ name: "image-test", version: "1.0.0" });
        await client.connect(new StreamableHTTPClientTransport(new URL("mcp", url), { requestInit: { headers: { authorization: `Bearer ${KEY}` } } }));
        try {
          const tools = await client.listTools();
          assert.ok(tools.tools.some((t) => t.name === "img__echo"), `img__echo is listed: ${tools.tools.map((t) => t.name).join(", ")}`);
          const result = (await client.callTool({ name: "img__echo", arguments: { text: "through the image" } })) as CallToolResult;
          const first = result.content[0];
          figures.check(
            "image: one tool call",
            `ready after ${(readyMs / 1000).toFixed(1)} s; img__echo answered ${JSON.stringify(first?.type === "text" ? first.text : first)}`,
            "the echoed text",
            !result.isError && first?.type === "text" && first.text === "through the image",
          );
        } finally {
          await client.close();
        }
      });
    });
  },
);
