/**
 * The hostile registry corpus (test/fixtures/hostile/registry/): files written to get past the
 * trust boundary. Each must be refused with the rules listed here, located in the file, under the
 * default operator policy and an empty secret store; a good file beside them still loads. Then
 * the policy and grant checks on their own: what the operator allows, a file cannot widen.
 */
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { isNonPublicAddress, isNonPublicHost } from "../../src/registry/address-ranges.js";
import { loadRegistry } from "../../src/registry/loader.js";
import { DEFAULT_POLICY, parsePolicy, policyRules } from "../../src/registry/policy.js";
import type { RegistryFile } from "../../src/registry/types.js";
import { secretGrants, staticSecretSource } from "../../src/secrets/secret-source.js";

const CORPUS = fileURLToPath(new URL("../fixtures/hostile/registry/", import.meta.url));

/** Per file: every rule its refusal must name (and nothing else). */
const EXPECTED: Record<string, string[]> = {
  "bridge-and-limits.yaml": ["policy.network-bridge", "policy.limits", "policy.limits", "policy.limits"],
  "daemon-secrets.yaml": ["env.refused-name", "env.refused-name"],
  "dot-anchors.yaml": ["yaml.alias-bomb"],
  "host-mounts.yaml": ["mount.refused", "mount.refused", "mount.refused", "mount.malformed"],
  "loader-variables.yaml": ["env.refused-name", "env.refused-name", "env.refused-name", "env.refused-name"],
  "private-targets.yaml": ["policy.private-targets", "policy.private-targets", "policy.private-targets"],
  "protocol-headers.yaml": ["header.refused-name", "header.refused-name", "header.refused-name"],
  "runtime-arguments.yaml": ["argument.runtime-ignored", "argument.runtime-ignored"],
  "ungranted-secret.yaml": ["secret.not-granted"],
  "private-allowlist.yaml": ["policy.private-targets", "policy.private-targets", "policy.private-targets"],
  "wide-egress.yaml": ["network.too-wide", "network.too-wide"],
};

const GOOD = `name: io.github.modelcontextprotocol/server-memory
description: Knowledge graph memory
version: 2025.9.25
packages:
  - registryType: npm
    identifier: "@modelcontextprotocol/server-memory"
    version: 2025.9.25
    transport: {type: stdio}
`;

const roots: string[] = [];
after(() => Promise.all(roots.map((r) => rm(r, { recursive: true, force: true }))));

describe("the hostile registry corpus", () => {
  it("lists the same files as the expectations", async () => {
    assert.deepEqual((await readdir(CORPUS)).filter((f) => f.endsWith(".yaml")).sort(), Object.keys(EXPECTED).sort());
  });

  it("refuses every file with located errors naming its rules; the good file beside them loads", async () => {
    const root = await mkdtemp(path.join(tmpdir(), "mcp-router-hostile-"));
    roots.push(root);
    await mkdir(path.join(root, "servers"));
    for (const file of Object.keys(EXPECTED)) await copyFile(path.join(CORPUS, file), path.join(root, "servers", file));
    await writeFile(path.join(root, "servers", "memory.yaml"), GOOD);
    const load = await loadRegistry(root, { displayRoot: "registry", policy: DEFAULT_POLICY, grants: secretGrants(staticSecretSource({})) });
    assert.deepEqual(load.servers.map((s) => s.prefix), ["memory"], "only the good file yields a server");
    for (const [file, rules] of Object.entries(EXPECTED)) {
      const diagnostics = load.diagnostics.filter((d) => d.file === `registry/servers/${file}`);
      assert.deepEqual(diagnostics.map((d) => d.rule).sort(), [...rules].sort(), `${file}: ${JSON.stringify(diagnostics, null, 1)}`);
      for (const d of diagnostics) {
        assert.ok(d.hint, `${file} ${d.rule} says how to fix it`);
        if (file !== "dot-anchors.yaml") assert.ok(d.line > 1, `${file} ${d.rule} is located (line ${d.line})`);
      }
    }
    const grant = load.diagnostics.find((d) => d.rule === "secret.not-granted");
    assert.match(grant?.message ?? "", /ANTHROPIC_API_KEY/);
    assert.match(grant?.hint ?? "", /--secrets-file|--secrets-dir|MCP_ROUTER_SECRET_ANTHROPIC_API_KEY/);
    const policy = load.diagnostics.find((d) => d.rule === "policy.network-bridge");
    assert.match(policy?.hint ?? "", /bridge: true.*operator policy/);
  });
});

describe("operator policy", () => {
  const entry = (router: Record<string, unknown>): RegistryFile => ({ name: "a/b", description: "d", version: "1.0.0", packages: [{ registryType: "npm", identifier: "x", version: "1.0.0", transport: { type: "stdio" } }], router: { prefix: "b", ...router } }) as RegistryFile;

  it("allows what the policy lists, and nothing more", () => {
    const policy = parsePolicy("mounts: [/srv/docs]\nnetwork: {bridge: true, privateTargets: true}\nlimits: {memory: 8g}\nlifecycles: [per-call]\n", "policy.yaml");
    assert.deepEqual(policyRules(entry({ mounts: [{ source: "/srv/docs/team", target: "/d" }], network: "bridge", limits: { memory: "8g" } }), policy), []);
    const refused = policyRules(entry({ mounts: [{ source: "/srv/docsX", target: "/d" }], limits: { memory: "9g" }, lifecycle: "shared" }), policy);
    assert.deepEqual(refused.map((p) => p.rule), ["policy.mounts", "policy.limits", "policy.lifecycles"]);
    assert.match(refused[0]?.hint ?? "", /the operator policy policy\.yaml/);
  });

  it("refuses a policy that is wrong, naming the file, the line and the setting", () => {
    assert.throws(() => parsePolicy("mounts: [/]\n", "p.yaml"), /p\.yaml:1:10 .*host's root folder/);
    assert.throws(() => parsePolicy("mounts:\n  - /var/run/docker.sock\n", "p.yaml"), /p\.yaml:2:5 .*control socket/);
    assert.throws(() => parsePolicy("network: {bridge: yes-please}\n", "p.yaml"), /network\.bridge must be true or false/);
    assert.throws(() => parsePolicy("limts: {}\n", "p.yaml"), /unknown setting "limts"/);
    assert.throws(() => parsePolicy("limits: {memory: lots}\n", "p.yaml"), /limits\.memory must be a size/);
    assert.deepEqual(parsePolicy("", "empty.yaml").network, DEFAULT_POLICY.network);
  });

  it("knows which addresses and names are not the public internet", () => {
    for (const ip of ["127.0.0.1", "10.1.2.3", "169.254.169.254", "172.20.0.1", "192.168.1.1", "100.64.0.1", "0.0.0.0", "::1", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "::ffff:7f00:1", "64:ff9b::a9fe:a9fe"]) {
      assert.equal(isNonPublicAddress(ip), true, ip);
    }
    for (const ip of ["1.1.1.1", "140.82.112.3", "2606:4700::1111"]) assert.equal(isNonPublicAddress(ip), false, ip);
    for (const host of ["localhost", "api.localhost", "metadata.google.internal", "printer.local", "redis"]) assert.equal(isNonPublicHost(host), true, host);
    assert.equal(isNonPublicHost("api.github.com"), false);
  });
});
