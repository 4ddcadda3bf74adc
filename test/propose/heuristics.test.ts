import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import path from "node:path";
import { describe, it } from "node:test";
import { gatherEvidence } from "../../src/propose/evidence.js";
import { analyze } from "../../src/propose/heuristics.js";
import { localRepoReader } from "../../src/propose/local-repo-reader.js";
import { registryToolSchema } from "../../src/propose/registry-tool-schema.js";
import { findRunCommands } from "../../src/propose/run-commands.js";
import { stripSecrets } from "../../src/propose/strip-secrets.js";
import { validateProposal } from "../../src/propose/validate-proposal.js";
import type { RegistryFile } from "../../src/registry/types.js";
import { FIXTURES, loadDevSet, runDevSet } from "./dev-set.js";

/** Floors below the rates measured on the tune part (see bench/propose.ts): a regression fails the suite. */
const RUNTIME_IDENTIFIER_FLOOR = 0.95;
const ENV_FLOOR = 0.9;
const ALL_ENV_FLOOR = 0.85;

describe("heuristics on the dev set", () => {
  it("covers at least 60 repos in a tune and a holdout part, 25 more in a blind part, and every required case", () => {
    const set = loadDevSet();
    assert.ok(set.length >= 60);
    assert.ok(set.filter((c) => c.part === "holdout").length >= 20);
    assert.ok(set.filter((c) => c.part === "blind").length >= 25);
    assert.ok(set.every((c) => c.part === "tune" || c.part === "holdout" || c.part === "blind"));
    // The split is fixed: after the first 21 (all tune), sha1(fixture)[0] < 8 is holdout, for every repository added since.
    const misplaced = set.slice(21).filter((c) => c.part !== "blind" && (createHash("sha1").update(c.fixture).digest("hex")[0]! < "8") !== (c.part === "holdout"));
    assert.deepEqual(misplaced.map((c) => c.fixture), []);
    const cases = set.map((c) => c.case).join(" ");
    for (const needed of ["npm", "PyPI", "Docker-first", "subfolder", "positional", "remote-only", "thin README"]) assert.match(cases, new RegExp(needed));
  });

  it("keeps exact-match accuracy on the tune part above the floor", async () => {
    const { results, tune } = await runDevSet("tune");
    const misses = results.filter((r) => !r.runtimeIdentifierOk || !r.envOk).map((r) => `${r.case.fixture}: ${JSON.stringify(r.got)}`);
    assert.ok(tune.runtimeIdentifierRate >= RUNTIME_IDENTIFIER_FLOOR, `runtime+identifier ${tune.runtimeIdentifierRate}; misses: ${misses.join("; ")}`);
    assert.ok(tune.envRate >= ENV_FLOOR, `required env ${tune.envRate}; misses: ${misses.join("; ")}`);
    assert.ok(tune.allEnvRate >= ALL_ENV_FLOOR, `all env ${tune.allEnvRate}`);
  });

  it("builds valid entries whenever a version is known, with secrets declared but never valued", async () => {
    const { results } = await runDevSet();
    for (const r of results) {
      assert.doesNotMatch(JSON.stringify(r.analysis.entry), /MCP_ROUTER_|ANTHROPIC_API_KEY|"bridge"/, r.case.fixture);
      const v = validateProposal(r.analysis.entry, r.analysis.prefix);
      const pkg = r.analysis.entry.packages?.[0];
      assert.ok(v.ok, `${r.case.fixture}: ${v.messages.join("\n")}`);
      for (const e of pkg?.environmentVariables ?? []) {
        if (e.isSecret) assert.equal(e.value ?? e.default, undefined, `${r.case.fixture} ${e.name}`);
      }
      assert.doesNotMatch(v.yaml, /version: latest|:latest\b/);
    }
  });

  it("takes an existing server.json as authoritative", async () => {
    const reader = localRepoReader(path.join(FIXTURES, "repos/airtable-mcp-server"), { repository: "domdomegg/airtable-mcp-server" });
    const a = analyze(await gatherEvidence(reader));
    assert.equal(a.authoritative, true);
    assert.equal(a.name, "io.github.domdomegg/airtable-mcp-server");
    assert.equal(a.prefix, "airtable");
    assert.ok(validateProposal(a.entry, a.prefix).ok);
  });

  it("turns README arguments into positional and named arguments", async () => {
    const fs = analyze(await gatherEvidence(localRepoReader(path.join(FIXTURES, "repos/servers-filesystem"), { repository: "modelcontextprotocol/servers" }), "src/filesystem"));
    const args = fs.entry.packages?.[0]?.packageArguments ?? [];
    assert.equal(args.length, 2);
    assert.ok(args.every((a) => a.type === "positional" && a.value === undefined && a.valueHint));
    assert.equal(fs.entry.repository?.subfolder, "src/filesystem");
    const time = analyze(await gatherEvidence(localRepoReader(path.join(FIXTURES, "repos/mcp-server-time"), { repository: "modelcontextprotocol/mcp-server-time" })));
    assert.deepEqual(time.entry.packages?.[0]?.packageArguments, [{ type: "named", name: "--local-timezone", value: "America/New_York" }]);
  });

  it("records the evidence each candidate came from", async () => {
    const a = analyze(await gatherEvidence(localRepoReader(path.join(FIXTURES, "repos/notion-mcp-server"), { repository: "makenotion/notion-mcp-server" })));
    assert.equal(a.best?.identifier, "@notionhq/notion-mcp-server");
    assert.ok(a.best?.evidence.some((e) => e.path === "package.json"));
    assert.ok(a.best?.evidence.some((e) => e.path === "README.md" && e.line !== undefined));
    assert.ok(a.candidates.some((c) => c.runtime === "docker" && c.identifier === "mcp/notion"));
  });
});

describe("run commands", () => {
  it("reads npx, uvx, docker, mcp-remote and inspector-wrapped commands", () => {
    const md = [
      "```bash",
      "npx @modelcontextprotocol/inspector npx -y some-server@1.2.3 --flag",
      "uvx --from my-pkg==0.4.0 my-cmd",
      "docker run -i --rm -e API_TOKEN -v /a:/b ghcr.io/o/img:2.0 stdio",
      "npx -y mcp-remote https://example.net/sse",
      "```",
    ].join("\n");
    const cmds = findRunCommands(md).map((c) => [c.runtime, c.identifier, c.version, c.args.join(" "), c.env.join(",")]);
    assert.deepEqual(cmds, [
      ["npx", "some-server", "1.2.3", "--flag", ""],
      ["uvx", "my-pkg", "0.4.0", "", ""],
      ["docker", "ghcr.io/o/img", "2.0", "stdio", "API_TOKEN"],
      ["remote", "https://example.net/sse", undefined, "", ""],
    ]);
  });
});

describe("stripSecrets", () => {
  it("removes secret values and flags credential-looking values", () => {
    const entry = {
      name: "io.github.o/r",
      description: "d",
      version: "1.0.0",
      packages: [
        {
          registryType: "npm",
          identifier: "r",
          version: "1.0.0",
          transport: { type: "stdio" },
          environmentVariables: [
            { name: "API_KEY", value: "abc" },
            { name: "MODE", value: "sk-live-0123456789abcdef0123" },
            { name: "REGION", value: "eu" },
          ],
        },
      ],
      remotes: [{ type: "streamable-http", url: "https://x.dev/mcp", headers: [{ name: "Authorization", value: "Bearer {token}", variables: { token: { isSecret: true, value: "t0k" } } }] }],
    } as unknown as RegistryFile;
    const { entry: out, removed } = stripSecrets(entry);
    const vars = out.packages?.[0]?.environmentVariables ?? [];
    assert.deepEqual(vars[0], { name: "API_KEY", isSecret: true });
    assert.deepEqual(vars[1], { name: "MODE", isSecret: true });
    assert.deepEqual(vars[2], { name: "REGION", value: "eu" });
    assert.equal(out.remotes?.[0]?.headers?.[0]?.value, "Bearer {token}");
    assert.equal(out.remotes?.[0]?.headers?.[0]?.variables?.token?.value, undefined);
    assert.equal(removed.length, 3);
  });

  it("leaves no removed value or credential-looking word anywhere else in the file", () => {
    const key = "sk-live-0123456789abcdef0123";
    const entry = {
      name: "io.github.o/r",
      description: `Search. Example key: ${key}.`,
      version: "1.0.0",
      packages: [
        {
          registryType: "npm",
          identifier: "r",
          version: "1.0.0",
          transport: { type: "stdio" },
          environmentVariables: [
            { name: "API_KEY", value: "hunter2-secret", description: "Your key, e.g. hunter2-secret, or ghp_abcdefghijklmnopqrstuvwxyz0123456789" },
            { name: "REGION", value: "eu", description: "Region: eu or us (see https://x.dev/docs/regions2024)" },
          ],
        },
      ],
    } as unknown as RegistryFile;
    const { entry: out, removed } = stripSecrets(entry);
    const text = JSON.stringify(out);
    for (const secret of [key, "hunter2-secret", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"]) assert.ok(!text.includes(secret), secret);
    assert.equal(out.description, "Search. Example key: <redacted>.");
    assert.equal(out.packages?.[0]?.environmentVariables?.[0]?.description, "Your key, e.g. <redacted>, or <redacted>");
    assert.equal(out.packages?.[0]?.environmentVariables?.[1]?.description, "Region: eu or us (see https://x.dev/docs/regions2024)", "ordinary prose and URLs stay");
    assert.ok(removed.includes("description") && removed.includes("packages[0].environmentVariables[0].description"), removed.join(", "));
  });
});

describe("registryToolSchema", () => {
  it("drops ajv-only keywords and router.tools, keeping structure and descriptions", () => {
    const schema = registryToolSchema();
    const text = JSON.stringify(schema);
    for (const k of ["errorMessage", "x-hint", "discriminator", "#/definitions/", '"$schema"', '"$id"']) assert.ok(!text.includes(k), k);
    assert.equal(schema.type, "object");
    const defs = schema.$defs as Record<string, { properties?: Record<string, unknown>; description?: string }>;
    assert.ok(defs.Package?.description);
    assert.ok(defs.Router?.properties?.prefix);
    assert.equal(defs.Router?.properties?.tools, undefined);
  });
});
