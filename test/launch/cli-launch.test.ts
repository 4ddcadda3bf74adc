import assert from "node:assert/strict";
import { it } from "node:test";
import { Command } from "commander";
import Docker from "dockerode";
import { pino } from "pino";
import { registerLaunchCommands } from "../../src/cli/launch-commands.js";
import { DockerLauncher } from "../../src/launch/docker/docker-launcher.js";
import { staticSecretSource } from "../../src/secrets/secret-source.js";
import type { RegistryServer } from "../../src/registry/types.js";
import { describeWhen, dockerUnlessCi, ensureTestImages, listOurContainers, testDataDir } from "../support/docker.js";
import { ociPackage, testServer } from "../support/servers.js";

const OWNER = "test-cli";
const hasDocker = await dockerUnlessCi();

async function runCli(argv: string[]): Promise<{ stdout: string; stderr: string }> {
  const images = await ensureTestImages();
  const servers: Record<string, RegistryServer> = { probe: testServer("probe-cli", ociPackage(images.probe)) };
  let stdout = "";
  let stderr = "";
  const program = new Command().exitOverride();
  registerLaunchCommands(program, {
    resolveServer: (prefix) => servers[prefix] ?? assert.fail(`unknown server ${prefix}`),
    createLauncher: () =>
      DockerLauncher.create({ docker: new Docker(), logger: pino({ level: "silent" }), secrets: staticSecretSource({}), dataDir: testDataDir(), owner: OWNER, baseImages: { node: images.nodeBase }, pool: false }),
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
  });
  await program.parseAsync(["node", "mcp-router", ...argv]);
  return { stdout, stderr };
}

describeWhen(hasDocker, "CLI: call and tools", {}, () => {
  it("call prints the JSON result on stdout and progress on stderr", async () => {
    const { stdout, stderr } = await runCli(["call", "probe", "echo", "--args", '{"text":"from the cli"}']);
    assert.deepEqual(JSON.parse(stdout), { content: [{ type: "text", text: "from the cli" }] });
    assert.match(stderr, /probe-cli: image .* is present/);
  });

  it("tools prints the tool list as JSON", async () => {
    const { stdout } = await runCli(["tools", "probe"]);
    const tools = JSON.parse(stdout) as Array<{ name: string }>;
    assert.ok(tools.some((t) => t.name === "echo"));
  });

  it("rejects --args that are not a JSON object, before starting anything", async () => {
    await assert.rejects(runCli(["call", "probe", "echo", "--args", "[1]"]), /must be a JSON object/);
    await assert.rejects(runCli(["call", "probe", "echo", "--args", "{nope"]), /not valid JSON/);
    assert.deepEqual(await listOurContainers(OWNER), []);
  });
});
