import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sanitizeProposal } from "../../src/propose/sanitize-proposal.js";
import { validateProposal } from "../../src/propose/validate-proposal.js";
import type { RegistryFile } from "../../src/registry/types.js";

const legit = (): RegistryFile => ({
  name: "io.github.acme/tool",
  description: "A tool",
  version: "1.2.3",
  packages: [
    {
      registryType: "npm",
      identifier: "@acme/tool",
      version: "1.2.3",
      runtimeHint: "npx",
      transport: { type: "stdio" },
      packageArguments: [{ type: "named", name: "--readonly" }],
      environmentVariables: [{ name: "ACME_TOKEN", isRequired: true, isSecret: true }, { name: "GITHUB_PERSONAL_ACCESS_TOKEN", isSecret: true }],
    },
  ],
  router: { prefix: "tool", network: { allow: ["api.acme.com", "*.acme.com"] }, limits: { memory: "256m", timeoutSeconds: 30, concurrency: 4 } },
});

describe("sanitizeProposal", () => {
  it("leaves a proposal without privileges as it is", () => {
    const { entry, dropped } = sanitizeProposal(legit());
    assert.deepEqual(dropped, []);
    assert.deepEqual(entry, legit());
  });

  it("removes each privilege, records where, what and why, and is idempotent", () => {
    const hostile = legit() as unknown as { packages: Record<string, unknown>[]; router: Record<string, unknown> };
    hostile.packages[0]!.runtimeArguments = [{ type: "named", name: "--cap-add", value: "SYS_ADMIN" }];
    (hostile.packages[0]!.environmentVariables as unknown[]).push({ name: "PYTHONPATH", value: "/tmp" }, { name: "GH_TOKEN", isSecret: true });
    Object.assign(hostile.router, {
      lifecycle: "shared",
      mounts: [{ source: "/srv/data", target: "/data" }],
      limits: { memory: "3g", concurrency: 64 },
      network: { allow: ["api.acme.com", "127.0.0.1", "[::1]:8808", "192.168.1.0/24", "*.io"] },
    });
    const first = sanitizeProposal(hostile as unknown as RegistryFile, "Claude");
    const what = first.dropped.map((d) => d.what).sort();
    assert.deepEqual(what, [
      "allowlist entry *.io",
      "allowlist entry 127.0.0.1",
      "allowlist entry 192.168.1.0/24",
      "allowlist entry [::1]:8808",
      "environment variable GH_TOKEN",
      "environment variable PYTHONPATH",
      "host mount /srv/data → /data",
      "lifecycle: shared",
      "limits.concurrency: 64",
      "limits.memory: 3g",
      "runtime argument --cap-add SYS_ADMIN",
    ]);
    assert.ok(first.dropped.every((d) => d.from === "Claude" && d.why.length > 10));
    assert.equal(first.dropped.find((d) => d.what === "host mount /srv/data → /data")?.path, "router.mounts[0]");
    assert.deepEqual(first.entry.router?.network, { allow: ["api.acme.com"] });
    assert.deepEqual(first.entry.router?.limits, undefined);
    assert.deepEqual(first.entry.packages?.[0]?.environmentVariables?.map((v) => v.name), ["ACME_TOKEN", "GITHUB_PERSONAL_ACCESS_TOKEN"]);
    assert.ok(validateProposal(first.entry, "tool").ok, validateProposal(first.entry, "tool").messages.join("\n"));
    assert.deepEqual(sanitizeProposal(first.entry).dropped, [], "a sanitised proposal has nothing left to drop");
  });

  it("takes an allowlist of only private hosts away entirely, and survives a model's odd shapes", () => {
    const odd = { name: "x/y", description: "d", version: "1.0.0", packages: "not a list", router: { prefix: "y", network: { allow: ["localhost"] }, mounts: "all of them", limits: { memory: 12 } } };
    const { entry, dropped } = sanitizeProposal(odd as unknown as RegistryFile);
    assert.equal(entry.router?.network, undefined);
    assert.equal(entry.router?.mounts, undefined);
    assert.deepEqual(dropped.map((d) => d.what).sort(), ["allowlist entry localhost", "host mounts", "limits.memory: 12"]);
    assert.equal(validateProposal(entry, "y").ok, false, "the schema refuses what is left of the odd shape");
  });
});
