/**
 * Verify with the daemon's real launcher: a proposed entry runs in a hardened container, is
 * initialized, and its tools are listed; a broken one reports what went wrong.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Docker from "dockerode";
import { pino } from "pino";
import { DockerLauncher } from "../../src/launch/docker/docker-launcher.js";
import { staticSecretSource } from "../../src/secrets/secret-source.js";
import { launcherVerify } from "../../src/propose/launcher-verify.js";
import type { RegistryFile } from "../../src/registry/types.js";
import { dockerAvailable, ensureTestImages, listOurContainers, testDataDir } from "../support/docker.js";
import { installedVersion } from "../support/servers.js";

const OWNER = "test-propose-verify";

function entry(identifier: string, version: string): RegistryFile {
  return {
    name: "io.github.modelcontextprotocol/server-memory",
    description: "Knowledge-graph memory",
    version,
    packages: [{ registryType: "npm", identifier, version, runtimeHint: "npx", transport: { type: "stdio" }, environmentVariables: [{ name: "MEMORY_FILE_PATH", value: "/tmp/memory.jsonl" }] }],
  };
}

describe("verify through the launcher", { timeout: 240_000 }, () => {
  let launcher: DockerLauncher | undefined;

  before(async () => {
    if (!(await dockerAvailable())) {
      if (process.env.CI) throw new Error("Docker engine unavailable under CI: run .ci/docker-up.sh before the tests");
      return;
    }
    const images = await ensureTestImages();
    launcher = await DockerLauncher.create({ docker: new Docker(), logger: pino({ level: "silent" }), secrets: staticSecretSource({}), dataDir: testDataDir(), owner: OWNER, baseImages: { node: images.nodeBase }, pool: false });
  });

  after(async () => {
    await launcher?.close();
    if (launcher) assert.deepEqual(await listOurContainers(OWNER), [], "no container of ours is left");
  });

  it("lists the tools of a real npm server in a container", async (t) => {
    if (!launcher) return t.skip("no Docker engine; skipped outside CI");
    const verify = launcherVerify(launcher);
    const result = await verify(entry("@modelcontextprotocol/server-memory", installedVersion("@modelcontextprotocol/server-memory")), "memory");
    assert.equal(result.ok, true, result.error);
    const names = (result.tools ?? []).map((tool) => tool.name);
    assert.ok(names.includes("create_entities") && names.includes("read_graph"), names.join(","));
    assert.ok(result.tools?.every((tool) => typeof tool.inputSchema === "object"));
  });

  it("reports a server that cannot start", async (t) => {
    if (!launcher) return t.skip("no Docker engine; skipped outside CI");
    const verify = launcherVerify(launcher);
    const result = await verify(entry("@modelcontextprotocol/server-memory", "0.0.0-does-not-exist"), "memory");
    assert.equal(result.ok, false);
    assert.match(result.error ?? "", /0\.0\.0-does-not-exist|No matching version|ETARGET|npm install/i);
  });
});
