/**
 * The env model's rules of issue 18, round 4: each with a small, real-looking input and the verdict
 * it must reach (mode, required or not, proposed or not).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EnvCollector, envFromEnvExample, envFromServerJson, envFromSource, PRESENCE_THRESHOLD, type EnvFinding } from "../../src/propose/env-findings.js";
import { envFromReadme } from "../../src/propose/readme-env.js";
import type { EvidenceFile } from "../../src/propose/evidence.js";

const file = (kind: EvidenceFile["kind"], path: string, text: string): EvidenceFile => ({ kind, path, url: path, text, truncated: false });

/** Whether the heuristics would put the variable into the entry (default mode, documented enough). */
const proposed = (f: EnvFinding | undefined) => !!f && f.mode === "default" && f.score.presence >= PRESENCE_THRESHOLD;

function readmeFindings(lines: string[]) {
  const env = new EnvCollector();
  envFromReadme(file("readme", "README.md", lines.join("\n")), env);
  return new Map(env.findings().map((f) => [f.name, f]));
}

describe("modes from a single README line", () => {
  it("does not take a feature's words (server-side, debug, tests) for a mode; a transport named on the line is one", () => {
    const by = readmeFindings([
      "## Configuration",
      "| Variable | Default | Description |",
      "| --- | --- | --- |",
      "| `SVC_DISABLE_SERVER_SIDE_JS` | `false` | Disallows server-side JavaScript operators |",
      "| `SVC_DEBUG_ENABLED` | `false` | Enables debug logging, useful for troubleshooting |",
      "| `SVC_BODY_LIMIT` | `102400` | Maximum request body (only used when transport is `'http'`) |",
      "| `SVC_NOTIFY_MS` | `540000` | Notification timeout (only applies to http transport) |",
      "- **File** (requires `SVC_OUTPUT_DIR` env var): writes flaky test details to a directory",
      "- (Optional) `SVC_SKIP_VERIFY`: skip TLS verification. Only use this for development or testing environments.",
    ]);
    for (const n of ["SVC_DISABLE_SERVER_SIDE_JS", "SVC_DEBUG_ENABLED", "SVC_OUTPUT_DIR", "SVC_SKIP_VERIFY"]) assert.equal(by.get(n)?.mode, "default", n);
    assert.equal(by.get("SVC_BODY_LIMIT")?.mode, "http");
    assert.equal(by.get("SVC_NOTIFY_MS")?.mode, "http");
  });

  it("reads a server.json description the same way", () => {
    const env = new EnvCollector();
    const sj = file("server.json", "server.json", '{ "name": "SVC_DISABLE_SERVER_SIDE_JS" }\n{ "name": "SVC_NOTIFY_MS" }');
    envFromServerJson(sj, [
      { name: "SVC_DISABLE_SERVER_SIDE_JS", description: "When set to true, disallows server-side JavaScript operators in query filters." },
      { name: "SVC_NOTIFY_MS", description: "Notification timeout for a client to be aware of disconnect (only applies to http transport)." },
    ], env);
    const by = new Map(env.findings().map((f) => [f.name, f]));
    assert.equal(by.get("SVC_DISABLE_SERVER_SIDE_JS")?.mode, "default");
    assert.equal(by.get("SVC_NOTIFY_MS")?.mode, "http");
  });
});

describe("required or optional, from README prose and lists", () => {
  it("reads \"required for the cloud API\" as required: the vendor's service is the default deployment", () => {
    const by = readmeFindings([
      "### Environment",
      "- `SVC_API_KEY`: your API key (required for the cloud API)",
      "- `SVC_API_URL`: endpoint of a self-hosted instance (optional)",
      "- `SVC_PROXY_URL`: required when behind a proxy",
    ]);
    assert.equal(by.get("SVC_API_KEY")?.required, true);
    assert.equal(by.get("SVC_API_URL")?.required, false);
    assert.equal(by.get("SVC_PROXY_URL")?.required, false, "a real condition stays a condition");
  });

  it("takes verdicts from the sentence that names the variable, and only when it speaks of setting it", () => {
    const by = readmeFindings([
      "## Dynamic Client Configuration",
      "Middleware can override client configuration per request using the `SVC_OVERRIDES_KEY` context state key. The server merges these overrides with the configuration from environment variables.",
      "",
      "To opt out of telemetry, set the `SVC_TELEMETRY` environment variable to `false`.",
    ]);
    assert.equal(proposed(by.get("SVC_OVERRIDES_KEY")), false, "an API name is not proposed");
    assert.equal(proposed(by.get("SVC_TELEMETRY")), true);
  });

  it("starts afresh under an \"Environment Variables\" heading filed under \"Development\"", () => {
    const by = readmeFindings([
      "## Development",
      "Run `uv sync` and start the server.",
      "### Environment Variables",
      "#### Required Variables",
      "* `SVC_HOST`: the host of your server",
      "#### Optional Variables",
      "* `SVC_DATABASE`: default database",
      "## Running tests",
      "* `SVC_TEST_DSN`: database used by the test suite",
    ]);
    assert.equal(by.get("SVC_HOST")?.mode, "default");
    assert.equal(by.get("SVC_HOST")?.required, true);
    assert.equal(by.get("SVC_DATABASE")?.mode, "default");
    assert.equal(by.get("SVC_TEST_DSN")?.mode, "dev");
  });

  it("keeps a nested list item in its parent item's mode, and a name in another variable's sub-item only mentioned", () => {
    const by = readmeFindings([
      "## Configuration",
      "* `SVC_AUTH_TOKEN`: static bearer token for HTTP/SSE transports",
      "  * Default: None",
      "  * Clients send `SVC_AUTH_TOKEN` in the `Authorization` header",
      "* `SVC_AUTH_PROVIDER`: class path of an auth provider",
      "  * When set, leave `SVC_AUTH_TOKEN` unset",
      "* `SVC_QUERY_TIMEOUT`: timeout in seconds",
      "  * Default: `30`",
    ]);
    assert.equal(proposed(by.get("SVC_AUTH_TOKEN")), false, "HTTP-only: its sub-items and the other item's mention do not bring it into the default mode");
    assert.equal(proposed(by.get("SVC_QUERY_TIMEOUT")), true);
    assert.equal(by.get("SVC_QUERY_TIMEOUT")?.required, false);
  });
});

describe("modes: remote deployments and opt-outs", () => {
  it("puts a \"Self-Managed Remote MCP Server\" section's client variables in the HTTP mode; an opt-out in prose stays default", () => {
    const by = readmeFindings([
      "## Self-Managed Remote MCP Server",
      "### Configure clients",
      "```json",
      '{ "mcpServers": { "svc": { "command": "npx", "args": ["-y", "mcp-remote", "http://localhost:8000/mcp", "--header", "Authorization:${AUTH_HEADER}"], "env": { "AUTH_HEADER": "Bearer <token>" } } } }',
      "```",
      "## Telemetry",
      "Metrics are exported unless you set `SVC_DISABLE_TELEMETRY=true`. On remote deployments, metrics use the request's token.",
    ]);
    assert.equal(by.get("AUTH_HEADER")?.mode, "http");
    assert.equal(by.get("SVC_DISABLE_TELEMETRY")?.mode, "default", "the next sentence's remote deployments are not this variable's mode");
    assert.equal(by.get("SVC_DISABLE_TELEMETRY")?.required, false);
    assert.equal(proposed(by.get("SVC_DISABLE_TELEMETRY")), true);
  });
});

describe("lists where some items are marked optional", () => {
  it("leans towards required for an unmarked item of a \"Set the following environment variables:\" list with optional siblings", () => {
    const by = readmeFindings([
      "#### Set environment variables for stdio mode",
      "Set the following environment variables:",
      "",
      "- `SVC_URL`: The URL of your cluster (for example, `https://cluster.example.com:9200`)",
      "- (Optional) `SVC_SKIP_VERIFY`: Set to `true` to skip TLS verification.",
      "",
      "```bash",
      "docker run -i --rm -e SVC_URL -e SVC_API_KEY svc/mcp stdio",
      "```",
    ]);
    assert.equal(by.get("SVC_URL")?.required, true);
    assert.equal(by.get("SVC_SKIP_VERIFY")?.required, false);
  });

  it("is only a lean: without an intro about setting variables, or with no other evidence, an unmarked item stays optional", () => {
    const noIntro = readmeFindings(["## Options", "", "- `SVC_URL`: The URL of your cluster", "- (Optional) `SVC_SKIP_VERIFY`: skip TLS verification", "```bash", "docker run -e SVC_URL svc/mcp", "```"]);
    assert.equal(noIntro.get("SVC_URL")?.required, false);
    const alone = readmeFindings(["Set the following environment variables:", "- `SVC_LOG_LEVEL`: log level", "- (Optional) `SVC_SKIP_VERIFY`: skip TLS verification"]);
    assert.equal(alone.get("SVC_LOG_LEVEL")?.required, false);
  });
});

describe("second names read as fallbacks", () => {
  it("does not propose an undocumented name read only when the documented one is unset", () => {
    const env = new EnvCollector();
    envFromReadme(file("readme", "README.md", ["## Configuration", "- `SVC_GEMINI_KEY`: required, your Gemini API key"].join("\n")), env);
    envFromSource(file("source", "src/config.ts", "export const key = process.env.SVC_GEMINI_KEY || process.env.SVC_GOOGLE_KEY;\nthrow new Error(`Need to set SVC_GEMINI_KEY or SVC_GOOGLE_KEY in your environment variables`);"), env);
    envFromSource(file("source", "server.py", ['url = os.getenv("SVC_URL") or os.getenv("SVC_LEGACY_URL")', 'region = os.getenv("SVC_REGION", os.getenv("SVC_ZONE"))', 'parser.add_argument("--url", help="Cluster URL (SVC_URL or SVC_LEGACY_URL env var)")', 'parser.add_argument("--region", help="Region (SVC_REGION or SVC_ZONE env var)")'].join("\n")), env);
    const by = new Map(env.findings().map((f) => [f.name, f]));
    assert.equal(proposed(by.get("SVC_GEMINI_KEY")), true);
    assert.equal(proposed(by.get("SVC_GOOGLE_KEY")), false);
    assert.ok(by.has("SVC_GOOGLE_KEY"), "still listed for the reviewer");
    assert.equal(proposed(by.get("SVC_LEGACY_URL")), false);
    assert.equal(proposed(by.get("SVC_ZONE")), false);
  });
});

describe("keys of example programs", () => {
  it("puts a key set only in a section that runs one of the repository's examples in the dev mode", () => {
    const by = readmeFindings([
      "## Configuration",
      "```json",
      '{ "mcpServers": { "svc": { "command": "uvx", "args": ["svc-mcp"], "env": { "SVC_HOST": "localhost" } } } }',
      "```",
      "## Integrations",
      "### OpenAI Agents SDK",
      "Configure the OpenAI token:",
      "```commandline",
      'export OPENAI_API_KEY="<openai_token>"',
      "```",
      "And run the [application](./examples/svc_assistant.py).",
      "### Claude Desktop",
      "```json",
      '{ "mcpServers": { "svc": { "command": "uvx", "args": ["svc-mcp"], "env": { "SVC_TOKEN": "<token>" } } } }',
      "```",
    ]);
    assert.equal(by.get("OPENAI_API_KEY")?.mode, "dev");
    assert.equal(by.get("SVC_TOKEN")?.mode, "default", "the next section is not the example's");
    assert.equal(by.get("SVC_TOKEN")?.required, true);
  });
});

describe("migration notes and self-hosting tables", () => {
  it("leaves out an older version's names from a migration section, and a table introduced as self-hosting the server", () => {
    const by = readmeFindings([
      "## Configuration",
      "| Variable | Required for | Purpose |",
      "|---|---|---|",
      "| `SVC_API_KEY` | stdio | API key |",
      "| `SVC_BASE_URL` | optional | API URL (default `https://api.example.com`) |",
      "",
      "Self-hosting the server itself:",
      "",
      "| Variable | Purpose |",
      "|---|---|",
      "| `SVC_INTERNAL_BASE_URL` | Internal URL for server-to-server calls |",
      "",
      "| Variable | Purpose |",
      "|---|---|",
      "| `SVC_TIMEOUT` | Request timeout in seconds, default 30 |",
      "## Migrating from the Node.js server",
      "| Node.js | Python |",
      "|---|---|",
      "| `SVC_API_HOST_URL` | `SVC_BASE_URL` |",
    ]);
    assert.equal(by.get("SVC_INTERNAL_BASE_URL")?.mode, "http");
    assert.equal(by.get("SVC_TIMEOUT")?.mode, "default", "the intro ends with its table");
    assert.equal(by.get("SVC_API_HOST_URL")?.mode, "legacy");
    assert.equal(by.get("SVC_BASE_URL")?.mode, "default");
    assert.equal(proposed(by.get("SVC_BASE_URL")), true);
  });

  it("still reads a self-hosted instance of the product as a default-mode setting", () => {
    const by = readmeFindings(["## Configuration", "For a self-hosted instance, set these variables:", "- `SVC_URL`: URL of your instance (optional)"]);
    assert.equal(by.get("SVC_URL")?.mode, "default");
  });
});

describe("a \"Required for\" column", () => {
  it("reads the mode named in the cell: stdio is required, HTTP is another mode, optional is optional", () => {
    const by = readmeFindings([
      "## Configuration",
      "| Variable | Required for | Purpose |",
      "|---|---|---|",
      "| `SVC_API_KEY` | stdio | API key |",
      "| `SVC_BASE_URL` | optional | API URL |",
      "| `SVC_SESSION_SECRET` | HTTP transport | signs sessions |",
    ]);
    assert.equal(by.get("SVC_API_KEY")?.required, true);
    assert.equal(by.get("SVC_BASE_URL")?.required, false);
    assert.equal(by.get("SVC_SESSION_SECRET")?.mode, "http");
  });
});

describe("one-word names", () => {
  it("keeps GROUPS or SANDBOX when server.json, smithery.yaml or .env.example declares them, never a capitalised word in a table or a source read alone", () => {
    const env = new EnvCollector();
    envFromReadme(file("readme", "README.md", ["## Environment Variables", "| Variable | Description | Default |", "|---|---|---|", "| `GROUPS` | Comma-separated tool group IDs | - |", "| `SANDBOX` | Use the sandbox | `false` |", "| `VERBOSE` | Log more | `false` |", "| `JSON` | Output format | - |", "The `TOOLS` list is below."].join("\n")), env);
    envFromSource(file("source", "server.js", "const verbose = process.env.VERBOSE == 'true';\nconst editor = process.env.EDITOR;"), env);
    envFromEnvExample(file("env-example", ".env.example", "SANDBOX=false\n"), env);
    envFromServerJson(file("server.json", "server.json", '{ "name": "GROUPS" }\n{ "name": "TOOLS" }'), [{ name: "GROUPS", description: "Comma-separated tool group IDs" }, { name: "TOOLS", description: "Comma-separated tool names" }], env);
    const by = new Map(env.findings().map((f) => [f.name, f]));
    assert.equal(proposed(by.get("GROUPS")), true, "declared by server.json");
    assert.equal(proposed(by.get("TOOLS")), true, "declared by server.json");
    assert.equal(proposed(by.get("SANDBOX")), true, "set in .env.example");
    assert.equal(by.has("VERBOSE"), false, "a source read and a table row are not enough");
    assert.equal(by.has("JSON"), false);
    assert.equal(by.has("EDITOR"), false, "the runtime's own");
  });

  it("reads Go viper's BindEnv as a read of the variable", () => {
    const env = new EnvCollector();
    envFromSource(file("source", "cmd/main.go", '_ = viper.BindEnv("key", "SVC_KEY_ID") // Maps SVC_KEY_ID to key'), env);
    assert.ok(env.has("SVC_KEY_ID"));
  });
});

describe("variables that a command-line argument stands in for", () => {
  it("never requires a variable documented with its flag (`X` / `--flag`) or listed after \"can also be set as arguments\"", () => {
    const by = readmeFindings([
      "### Environment Variables",
      "These variables can also be set as arguments",
      "",
      "- `SVC_HOST` / `--host`: API endpoint (defaults to https://api.example.com)",
      "- `SVC_MANAGEMENT_TOKEN` / `--management-token`: Your management API token, required",
      "- `SVC_DISABLE_ACTIONS`: Set to \"true\" to disable actions",
      "",
      "## Auth",
      "- `SVC_OTHER_TOKEN`: your token (required)",
    ]);
    assert.equal(by.get("SVC_MANAGEMENT_TOKEN")?.required, false);
    assert.match(by.get("SVC_MANAGEMENT_TOKEN")?.description ?? "", /--management-token/);
    assert.equal(proposed(by.get("SVC_MANAGEMENT_TOKEN")), true, "still proposed, as optional");
    assert.equal(by.get("SVC_OTHER_TOKEN")?.required, true, "a later section is not under that intro");
  });
});

describe("coverage: documented variables first", () => {
  it("does not propose names only read in source or listed in .env.example when the repository documents its variables elsewhere", () => {
    const env = new EnvCollector();
    envFromServerJson(file("server.json", "server.json", '{ "name": "SVC_ACCESS_TOKEN" }'), [{ name: "SVC_ACCESS_TOKEN", isRequired: true, description: "Access token" }], env);
    envFromEnvExample(file("env-example", ".env.example", ["SVC_ACCESS_TOKEN=your-token-here", "# OTEL_SERVICE_NAME=svc", "# SVC_API_ENDPOINT=https://api.example.com/"].join("\n")), env);
    envFromSource(file("source", "src/index.ts", ["const endpoint = process.env.SVC_API_ENDPOINT || 'https://api.example.com/';", "const name = process.env.OTEL_SERVICE_NAME || 'svc';", "throw new Error('falling back to SVC_PUBLIC_TOKEN env var'); const t = process.env.SVC_PUBLIC_TOKEN;"].join("\n")), env);
    envFromReadme(file("readme", "README.md", ["## Resources", "```bash", "export SVC_RESOURCE_FALLBACK=true", "```"].join("\n")), env);
    envFromSource(file("source", "src/res.ts", "const f = process.env.SVC_RESOURCE_FALLBACK === 'true';"), env);
    const by = new Map(env.findings().map((f) => [f.name, f]));
    assert.equal(proposed(by.get("SVC_ACCESS_TOKEN")), true);
    assert.equal(proposed(by.get("SVC_RESOURCE_FALLBACK")), true, "shown in the README");
    for (const n of ["SVC_API_ENDPOINT", "OTEL_SERVICE_NAME", "SVC_PUBLIC_TOKEN"]) {
      assert.ok(by.has(n), `${n} is still listed for the reviewer`);
      assert.equal(proposed(by.get(n)), false, n);
    }
  });

  it("still proposes from .env.example and source when nothing else documents variables", () => {
    const env = new EnvCollector();
    envFromEnvExample(file("env-example", ".env.example", "# Required\nSVC_API_KEY=your-key\n"), env);
    envFromSource(file("source", "src/index.ts", "const key = process.env.SVC_API_KEY;\nif (!key) throw new Error('SVC_API_KEY is required');"), env);
    assert.equal(env.findings().find((f) => f.name === "SVC_API_KEY")?.required, true);
  });
});

describe("snippets that show an option or a workaround", () => {
  it("reads a secret shown only in a troubleshooting snippet, or after \"If you run into ... you can temporarily add\", as optional", () => {
    const by = readmeFindings([
      "## MCP Configuration",
      "```json",
      '{ "mcpServers": { "svc": { "command": "npx", "args": ["-y", "@acme/svc-mcp"] } } }',
      "```",
      "## Help",
      "* If you run into authentication issues, you can temporarily add a personal access token to your MCP configuration:",
      "```json",
      '{ "mcpServers": { "svc": { "command": "npx", "args": ["-y", "@acme/svc-mcp"], "env": { "SVC_PERSONAL_ACCESS_TOKEN": "YOUR-PAT" } } } }',
      "```",
      "## Troubleshooting",
      "```bash",
      "export SVC_DEBUG_TOKEN=<token>",
      "```",
      "## Setup",
      "Add this to your configuration:",
      "```json",
      '{ "env": { "SVC_API_KEY": "<key>" } }',
      "```",
    ]);
    assert.equal(by.get("SVC_PERSONAL_ACCESS_TOKEN")?.required, false);
    assert.equal(proposed(by.get("SVC_PERSONAL_ACCESS_TOKEN")), true);
    assert.equal(by.get("SVC_DEBUG_TOKEN")?.required, false);
    assert.equal(by.get("SVC_API_KEY")?.required, true, "a plain configuration snippet still shows a need");
  });
});

describe("lower-case names in prose", () => {
  it("does not let a tool's snake_case parameters hide the one variable a sentence names", () => {
    const by = readmeFindings(["## Tools", "  With `SVC_LITE_TOOLS=true`, the schema stays query-only, but optional overrides such as `response_format` and `result_detail` are still honored."]);
    assert.equal(by.get("SVC_LITE_TOOLS")?.required, false);
    assert.equal(proposed(by.get("SVC_LITE_TOOLS")), true);
    assert.equal(by.has("response_format"), false);
  });
});
