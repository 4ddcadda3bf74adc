import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EnvCollector, envFromSource } from "../../src/propose/env-findings.js";
import { envFromReadme } from "../../src/propose/readme-env.js";
import type { EvidenceFile } from "../../src/propose/evidence.js";
import { normalizeServerJson } from "../../src/propose/normalize-server-json.js";
import { stripSecrets } from "../../src/propose/strip-secrets.js";
import { validateProposal } from "../../src/propose/validate-proposal.js";
import type { RegistryFile } from "../../src/registry/types.js";

const file = (kind: EvidenceFile["kind"], path: string, text: string): EvidenceFile => ({ kind, path, url: path, text, truncated: false });

describe("server.json normalisation", () => {
  it("maps a 2025-07 snake_case document, -e runtime args, flag positionals, templates and long text into a valid current file", () => {
    const old = {
      $schema: "https://static.modelcontextprotocol.io/schemas/2025-07-09/server.schema.json",
      name: "io.github.acme/widgets",
      description: "A server that does a great many things with widgets, gadgets, gizmos and doohickeys across every cloud provider.",
      version_detail: { version: "${VERSION}" },
      status: "active",
      packages: [
        {
          registry_name: "docker",
          name: "ghcr.io/acme/widgets:${VERSION}",
          runtime_arguments: [{ type: "positional", value: "-e" }, { type: "positional", value: "WIDGET_TOKEN", is_required: true, is_secret: true }, { type: "named", name: "-v", value: "/host:/data" }],
          package_arguments: [{ type: "positional", value: "--stdio" }, { type: "positional", value: "--port=8085" }],
          environment_variables: [{ name: "WIDGET_REGION", is_required: false, default: "eu" }],
        },
      ],
    };
    const { doc, changes, unresolved } = normalizeServerJson(old, { manifestVersion: "1.4.2" });
    assert.deepEqual(unresolved, []);
    const pkg = (doc.packages as Record<string, unknown>[])[0]!;
    assert.equal(pkg.registryType, "oci");
    assert.equal(pkg.identifier, "ghcr.io/acme/widgets:1.4.2");
    assert.equal(pkg.runtimeArguments, undefined, "-e became env, -v was dropped");
    assert.deepEqual(pkg.packageArguments, [{ type: "named", name: "--stdio" }, { type: "named", name: "--port", value: "8085" }]);
    assert.deepEqual((pkg.environmentVariables as { name: string }[]).map((e) => e.name), ["WIDGET_REGION", "WIDGET_TOKEN"]);
    assert.ok((doc.description as string).length <= 100);
    assert.equal(doc.status, undefined);
    assert.ok(changes.some((c) => /snake_case/.test(c)) && changes.some((c) => /-e WIDGET_TOKEN/.test(c)) && changes.some((c) => /-v/.test(c)));
    const entry = { ...doc, version: "1.4.2", router: { prefix: "widgets" } } as unknown as RegistryFile;
    const v = validateProposal(stripSecrets(entry).entry, "widgets");
    assert.ok(v.ok, v.messages.join("\n"));
  });

  it("reports a template it cannot resolve instead of keeping it", () => {
    const { doc, unresolved } = normalizeServerJson({ name: "io.github.o/r", version: "$VERSION", packages: [{ registryType: "pypi", identifier: "r", version: "$VERSION", transport: { type: "stdio" } }] });
    assert.equal(doc.version, undefined);
    assert.deepEqual(unresolved, ["version", "packages[0].version"]);
  });
});

describe("env model", () => {
  it("weighs README tables, headings, prose and snippets; keeps README-only optional vars; HTTP-only vars leave the default mode", () => {
    const readme = [
      "# Server",
      "## Configuration",
      "| Variable | Required | Description |",
      "| --- | --- | --- |",
      "| `ACME_TOKEN` | Yes | API token |",
      "| `ACME_REGION` | No | Region, defaults to eu |",
      "| `ACME_HTTP_PORT` | No | Port of the HTTP transport |",
      "### Optional variables",
      "- `ACME_TIMEOUT`: request timeout in seconds",
      "## Running over HTTP",
      "Set `ACME_SESSION_SECRET` to sign sessions.",
      "```json",
      '{ "mcpServers": { "acme": { "command": "npx", "args": ["acme-mcp"], "env": { "ACME_TOKEN": "x", "ACME_REGION": "eu" } } } }',
      "```",
    ].join("\n");
    const env = new EnvCollector();
    envFromReadme(file("readme", "README.md", readme), env);
    const by = new Map(env.findings().map((f) => [f.name, f]));
    assert.equal(by.get("ACME_TOKEN")?.required, true);
    assert.equal(by.get("ACME_REGION")?.required, false, "a snippet does not make a documented optional variable required");
    assert.equal(by.get("ACME_TIMEOUT")?.mode, "default");
    assert.equal(by.get("ACME_TIMEOUT")?.required, false);
    assert.equal(by.get("ACME_HTTP_PORT")?.mode, "http");
    assert.equal(by.get("ACME_SESSION_SECRET")?.mode, "http");
    assert.ok(by.get("ACME_TOKEN")?.evidence.some((e) => e.line === 5 && e.quote?.includes("ACME_TOKEN")));
  });

  it("models alternatives as one-of, never required, and refuses the daemon's own names", () => {
    const readme = ["## Auth", "- `SVC_API_KEY`: API key", "- `SVC_USERNAME`: user name", "Use `SVC_API_KEY` instead of `SVC_USERNAME` + `SVC_PASSWORD`.", "- `ANTHROPIC_API_KEY`: required", "- `MCP_ROUTER_TOKEN`: required"].join("\n");
    const env = new EnvCollector();
    envFromReadme(file("readme", "README.md", readme), env);
    const found = env.findings();
    const key = found.find((f) => f.name === "SVC_API_KEY");
    assert.match(key?.oneOf ?? "", /one of `SVC_API_KEY` \/ `SVC_USERNAME`/);
    assert.equal(key?.required, false);
    assert.ok(!found.some((f) => /ANTHROPIC|MCP_ROUTER/.test(f.name)));
    assert.deepEqual([...env.refused].sort(), ["ANTHROPIC_API_KEY", "MCP_ROUTER_TOKEN"]);
  });

  it("sees a check in another function than the read, Go's os.Getenv, and fallbacks", () => {
    const ts = ["const token = process.env.SVC_TOKEN;", "const region = process.env.SVC_REGION ?? 'eu';", "", "function start() {", "  if (!token) {", "    throw new Error('SVC_TOKEN is required');", "  }", "}"].join("\n");
    const go = ['func main() {', '  url := os.Getenv("SVC_URL")', '  if url == "" {', '    log.Fatal("SVC_URL must be set")', "  }", "}"].join("\n");
    const env = new EnvCollector();
    envFromSource(file("source", "src/index.ts", ts), env);
    envFromSource(file("source", "main.go", go), env);
    const by = new Map(env.findings().map((f) => [f.name, f]));
    assert.equal(by.get("SVC_TOKEN")?.required, true);
    assert.equal(by.get("SVC_REGION")?.required, false);
    assert.equal(by.get("SVC_URL")?.required, true);
  });
  it("sees destructured reads, and one check among several before a message and an exit", () => {
    const ts = [
      "export const { SVC_KEY, SVC_MODE = 'fast' } = process.env;",
      "const bot = process.env.SVC_BOT;",
      "const team = process.env.SVC_TEAM;",
      "if (!bot || !team) {",
      "  console.error('Please set SVC_BOT and SVC_TEAM environment variables');",
      "  process.exit(1);",
      "}",
    ].join("\n");
    const env = new EnvCollector();
    envFromSource(file("source", "src/index.ts", ts), env);
    const by = new Map(env.findings().map((f) => [f.name, f]));
    assert.ok(by.has("SVC_KEY"), "a destructured read is a read");
    assert.equal(by.get("SVC_MODE")?.required, false, "a destructured default is a fallback");
    assert.equal(by.get("SVC_BOT")?.required, true);
    assert.equal(by.get("SVC_TEAM")?.required, true, "the second name of the same check");
  });

  it("reads a guarded os.environ[...] (`if \"X\" in os.environ`) as optional", () => {
    const py = ["def port(self):", '    if "SVC_PORT" in os.environ:', '        return int(os.environ["SVC_PORT"])', "    return 8123", 'host = os.environ["SVC_HOST"]'].join("\n");
    const env = new EnvCollector();
    envFromSource(file("source", "svc/env.py", py), env);
    const by = new Map(env.findings().map((f) => [f.name, f]));
    assert.equal(by.get("SVC_PORT")?.required, false);
    assert.equal(by.get("SVC_HOST")?.required, true);
  });

  it("reads a comparison with a literal as a default, and a conditional message as no requirement", () => {
    const ts = [
      "export const analytics = () => process.env.SVC_ANALYTICS !== 'false';",
      "const token = process.env.SVC_TOKEN?.trim();",
      "const domain = process.env.SVC_DOMAIN?.trim();",
      "if (token && !domain) log('SVC_TOKEN is set but SVC_DOMAIN is required and missing');",
      "const key = process.env.SVC_KEY!;",
    ].join("\n");
    const env = new EnvCollector();
    envFromSource(file("source", "src/config.ts", ts), env);
    const by = new Map(env.findings().map((f) => [f.name, f]));
    assert.equal(by.get("SVC_ANALYTICS")?.required, false);
    assert.equal(by.get("SVC_TOKEN")?.required, false);
    assert.equal(by.get("SVC_DOMAIN")?.required, false);
    assert.equal(by.get("SVC_KEY")?.required, true, "a non-null assertion still means the author expects it set");
  });

  it("takes an opt-out setting as documented and optional", () => {
    const env = new EnvCollector();
    envFromReadme(file("readme", "README.md", "## Analytics\n\nTo **opt-out** of this collection, set the `SVC_ANALYTICS` environment variable to `false`."), env);
    const found = env.findings().find((f) => f.name === "SVC_ANALYTICS");
    assert.equal(found?.required, false);
    assert.ok((found?.score.presence ?? 0) >= 3, "documented enough to be proposed");
  });

  it("does not take a product title for a mode, and reads \"you will need to\" as required", () => {
    const readme = ["# Acme Developer MCP Server", "", "## Setup", "", "You will need to provide your Acme API key in the `ACME_API_KEY` environment variable."].join("\n");
    const env = new EnvCollector();
    envFromReadme(file("readme", "README.md", readme), env);
    const key = env.findings().find((f) => f.name === "ACME_API_KEY");
    assert.equal(key?.required, true);
    assert.equal(key?.mode, "default");
  });

  it("reads alternatives written on separate list items after \"use one of these options:\"", () => {
    const readme = [
      "## Configuration",
      "- `DB_URL`: the cluster URL",
      "- For authentication, use one of these options:",
      "  - API key: set `DB_API_KEY` to your key",
      "  - Basic auth: set `DB_USERNAME` and `DB_PASSWORD`",
      "- `DB_TIMEOUT`: seconds",
      "```json",
      '{ "env": { "DB_URL": "https://x", "DB_API_KEY": "<key>" } }',
      "```",
    ].join("\n");
    const env = new EnvCollector();
    envFromReadme(file("readme", "README.md", readme), env);
    const by = new Map(env.findings().map((f) => [f.name, f]));
    for (const n of ["DB_API_KEY", "DB_USERNAME", "DB_PASSWORD"]) {
      assert.match(by.get(n)?.oneOf ?? "", /one of/, n);
      assert.equal(by.get(n)?.required, false, n);
    }
    assert.equal(by.get("DB_TIMEOUT")?.oneOf, undefined, "the list of options ends where the outer list resumes");
  });

  it("does not make a secret required from a config snippet when a list documents it without saying required", () => {
    const listed = ["## Environment", "- `SVC_API_KEY`: API key for the cloud service", "```json", '{ "env": { "SVC_API_KEY": "<key>" } }', "```"].join("\n");
    const snippetOnly = ["## Setup", "```json", '{ "env": { "SVC_API_KEY": "<key>", "SVC_REGION": "eu" } }', "```"].join("\n");
    const a = new EnvCollector();
    envFromReadme(file("readme", "README.md", listed), a);
    assert.equal(a.findings().find((f) => f.name === "SVC_API_KEY")?.required, false);
    const b = new EnvCollector();
    envFromReadme(file("readme", "README.md", snippetOnly), b);
    const byB = new Map(b.findings().map((f) => [f.name, f]));
    assert.equal(byB.get("SVC_API_KEY")?.required, true, "a secret only ever shown in a snippet is still taken as needed");
    assert.equal(byB.get("SVC_REGION")?.required, false);
  });

  it("ignores variables the server writes into its own environment", () => {
    const py = ['import os', 'os.environ["SVC_TRACKING"] = "true"', 'key = os.environ["SVC_KEY"]'].join("\n");
    const js = ['process.env.SVC_AGENT = "mcp";', 'if (process.env.SVC_AGENT === "x") {}'].join("\n");
    const env = new EnvCollector();
    envFromSource(file("source", "server.py", py), env);
    envFromSource(file("source", "index.ts", js), env);
    const by = new Map(env.findings().map((f) => [f.name, f]));
    assert.equal(by.has("SVC_TRACKING"), false);
    assert.equal(by.get("SVC_KEY")?.required, true);
    assert.equal(by.get("SVC_AGENT")?.required ?? false, false);
  });
});
