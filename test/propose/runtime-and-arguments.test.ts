/**
 * How a proposal runs the server: which candidate a current server.json makes authoritative, which
 * README command's arguments a server needs (issue 18's side bugs), and what the secret stripper does
 * to `-e NAME=value` and to positional values it must remove.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { looksLikeCredential } from "../../src/propose/env-findings.js";
import { gatherEvidence } from "../../src/propose/evidence.js";
import { analyze, compareVersions } from "../../src/propose/heuristics.js";
import { localRepoReader } from "../../src/propose/local-repo-reader.js";
import { findRunCommands } from "../../src/propose/run-commands.js";
import { stripSecrets } from "../../src/propose/strip-secrets.js";
import { validateProposal } from "../../src/propose/validate-proposal.js";
import type { RegistryFile } from "../../src/registry/types.js";

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function analyzeRepo(files: Record<string, string>) {
  const dir = await mkdtemp(path.join(tmpdir(), "propose-args-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  return analyze(await gatherEvidence(localRepoReader(dir, { repository: "acme/widgets-mcp" })));
}

const pkg = (name: string) => JSON.stringify({ name, version: "1.2.0", bin: { [name.replace(/^@[^/]+\//, "")]: "dist/index.js" }, dependencies: { "@modelcontextprotocol/sdk": "^1.0.0" } });
const config = (args: string[]) => ["```json", JSON.stringify({ mcpServers: { widgets: { command: "npx", args: ["-y", ...args] } } }), "```"].join("\n");

describe("which way of running the server", () => {
  const remoteOnly = (version: string) =>
    JSON.stringify({ $schema: "https://static.modelcontextprotocol.io/schemas/2025-10-17/server.schema.json", name: "com.acme/widgets", description: "Widgets", version, remotes: [{ type: "streamable-http", url: "https://mcp.acme.example/mcp" }] });
  const readme = ["# Widgets", "## Remote installation", config(["mcp-remote", "https://mcp.acme.example/sse"]), "## Local installation", config(["widgets-mcp"]), "```bash", "WIDGETS_TOKEN=<token> npx -y widgets-mcp@latest", "```"].join("\n");

  it("follows a server.json at least as new as the package manifest (the authors' current choice), not a stale one", async () => {
    const current = await analyzeRepo({ "package.json": pkg("widgets-mcp"), "README.md": readme, "server.json": remoteOnly("2.0.0") });
    assert.equal(current.best?.runtime, "remote");
    assert.equal(current.best?.identifier, "https://mcp.acme.example/mcp");
    const stale = await analyzeRepo({ "package.json": pkg("widgets-mcp"), "README.md": readme, "server.json": remoteOnly("0.9.0") });
    assert.equal(stale.best?.runtime, "npx");
    assert.ok(compareVersions("2.0.0", "1.10.1") > 0 && compareVersions("1.2.0", "1.10.0") < 0 && compareVersions("v1.2.0-beta.1", "1.2.0") === 0);
  });
});

describe("remote endpoints in a README", () => {
  it("keeps the first line of a code block whose fence names no language", () => {
    const cmds = findRunCommands(["```", "npx -y @acme/widgets-mcp", "```"].join("\n"));
    assert.deepEqual(cmds.map((c) => c.identifier), ["@acme/widgets-mcp"]);
  });

  it("reads a code block holding only an endpoint (query string left out) and Gemini's httpUrl", () => {
    const cmds = findRunCommands(["Add this URL to your client:", "```", "https://mcp.acme.io/mcp?token=YOUR_API_TOKEN_HERE", "```", "```json", '{ "mcpServers": { "acme": { "httpUrl": "https://mcp.acme.io/sse" } } }', "```", "```", "http://localhost:8000/mcp", "```"].join("\n"));
    assert.deepEqual(cmds.map((c) => [c.runtime, c.identifier, c.transport]), [["remote", "https://mcp.acme.io/mcp", "streamable-http"], ["remote", "https://mcp.acme.io/sse", "sse"]]);
  });
});

describe("package arguments from README commands", () => {
  it("keeps what every command passes, not one example's options, setup commands or shell comments", async () => {
    const a = await analyzeRepo({
      "package.json": pkg("widgets-mcp"),
      "README.md": [
        "# Widgets MCP",
        "First run the setup once:",
        "```bash",
        "npx -y widgets-mcp init",
        "npx -y widgets-mcp remove # uninstalls it",
        "```",
        "## Usage",
        config(["widgets-mcp", "stdio", "/path/to/widgets"]),
        "Read-only:",
        config(["widgets-mcp", "stdio", "/Users/me/widgets", "--readOnly"]),
        "```bash",
        "npx -y widgets-mcp stdio ~/widgets # see --help for more options",
        "```",
      ].join("\n"),
    });
    const args = a.entry.packages?.[0]?.packageArguments ?? [];
    assert.deepEqual(args.map((x) => ("value" in x && x.value) || ("valueHint" in x && x.valueHint)), ["stdio", "path"]);
    assert.equal(args[1]?.isRequired, true, "the directory is a required placeholder argument");
    assert.ok(validateProposal(a.entry, a.prefix).ok);
  });

  it("leaves out a secret passed as a flag, and server.json's optional flags that have no value", async () => {
    const a = await analyzeRepo({
      "package.json": pkg("widgets-mcp"),
      "README.md": ["# Widgets", config(["widgets-mcp", "--access-token", "sntrys_widgets_user_token", "--org", "acme"])].join("\n"),
    });
    const args = a.entry.packages?.[0]?.packageArguments ?? [];
    assert.deepEqual(args, [{ type: "named", name: "--org", value: "acme" }]);
    assert.ok(a.notes.some((n) => n.includes("--access-token")));
    assert.doesNotMatch(JSON.stringify(a.entry), /sntrys_/);

    const b = await analyzeRepo({
      "package.json": pkg("widgets-mcp"),
      "README.md": "# Widgets\n\nA server for widgets.",
      "server.json": JSON.stringify({
        $schema: "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
        name: "io.github.acme/widgets-mcp",
        description: "Widgets",
        version: "1.2.0",
        packages: [{ registryType: "npm", identifier: "widgets-mcp", version: "1.2.0", transport: { type: "stdio" }, packageArguments: [
          { type: "named", name: "--readOnly", description: "When set, only reads.", isRequired: false },
          { type: "named", name: "--transport", description: "Either 'stdio' or 'http'.", isRequired: false },
          { type: "named", name: "--org", description: "Your organisation.", isRequired: true },
        ] }],
      }),
    });
    assert.deepEqual((b.entry.packages?.[0]?.packageArguments ?? []).map((x) => x.type === "named" && x.name), ["--org"]);
  });
});

describe("the secret stripper", () => {
  const entry = (runtimeArguments: unknown[], packageArguments: unknown[] = []): RegistryFile =>
    ({ name: "io.github.acme/widgets", description: "Widgets", version: "1.0.0", packages: [{ registryType: "oci", identifier: "ghcr.io/acme/widgets:1.0.0", transport: { type: "stdio" }, runtimeArguments, ...(packageArguments.length ? { packageArguments } : {}) }], router: { prefix: "widgets" } }) as unknown as RegistryFile;

  it("does not take a long NAME=port assignment for a credential", () => {
    assert.equal(looksLikeCredential("CLICKHOUSE_MCP_BIND_PORT=8085"), false);
    assert.equal(looksLikeCredential("WIDGETS_API_KEY=sk-live-0123456789abcdef"), true);
    assert.equal(looksLikeCredential("WIDGETS_API_KEY=<your key>"), false);
  });

  it("turns docker -e arguments into declared variables instead of leaving a bare -e", () => {
    const { entry: out, removed } = stripSecrets(entry([
      { type: "positional", value: "-e" },
      { type: "positional", value: "WIDGETS_MCP_BIND_PORT=8085" },
      { type: "named", name: "-e", value: "WIDGETS_TOKEN=ghp_0123456789abcdefghijABCDEFGHIJ0123" },
    ]));
    const p = out.packages![0]!;
    assert.equal(p.runtimeArguments, undefined, "no -e is left, bare or with its value");
    assert.deepEqual(p.environmentVariables, [{ name: "WIDGETS_MCP_BIND_PORT", default: "8085" }, { name: "WIDGETS_TOKEN", isSecret: true }]);
    assert.doesNotMatch(JSON.stringify(out), /ghp_/);
    assert.deepEqual(removed, ["packages[0].runtimeArguments[2].value"]);
    assert.ok(validateProposal(out, "widgets").ok);
  });

  it("gives a positional argument whose secret value it removed a hint, so the file stays valid", () => {
    const { entry: out } = stripSecrets(entry([], [{ type: "positional", value: "API_KEY=an0ther-r3al-looking-k3y-value-123" }]));
    assert.deepEqual(out.packages![0]!.packageArguments, [{ type: "positional", isSecret: true, valueHint: "API_KEY", isRequired: true }]);
    const v = validateProposal(out, "widgets");
    assert.ok(v.ok, v.messages.join("\n"));
  });
});
