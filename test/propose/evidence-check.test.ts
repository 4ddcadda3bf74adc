import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { TOOL_NAME } from "../../src/propose/claude-proposer.js";
import { localRepoReader } from "../../src/propose/local-repo-reader.js";
import { prBody } from "../../src/propose/pr-body.js";
import { propose } from "../../src/propose/propose.js";
import { redactQuote } from "../../src/propose/strip-secrets.js";
import { FakeApis } from "../support/fake-apis.js";
import { FIXTURES } from "./dev-set.js";

const reader = () => localRepoReader(path.join(FIXTURES, "repos/mcp-clickhouse"), { repository: "ClickHouse/mcp-clickhouse" });

describe("Claude's answer is checked against the evidence (real SDK, fake Messages API)", () => {
  let fake: FakeApis;
  let client: Anthropic;
  before(async () => {
    fake = await new FakeApis().start();
    client = new Anthropic({ apiKey: "sk-ant-test", baseURL: fake.anthropicUrl, maxRetries: 0 });
  });
  after(() => fake.stop());

  it("keeps variables with evidence, drops invented and daemon-own ones, and lists them", async () => {
    fake.anthropicRequests.length = 0;
    const entry = {
      name: "io.github.clickhouse/mcp-clickhouse",
      description: "ClickHouse MCP server",
      version: "0.3.0",
      packages: [
        {
          registryType: "pypi",
          identifier: "mcp-clickhouse",
          version: "0.3.0",
          runtimeHint: "uvx",
          transport: { type: "stdio" },
          environmentVariables: [
            { name: "CLICKHOUSE_HOST", isRequired: true },
            { name: "CLICKHOUSE_INVENTED_FLAG", isRequired: false },
            { name: "ANTHROPIC_API_KEY", isRequired: true, isSecret: true },
          ],
        },
      ],
      router: { prefix: "clickhouse", network: "bridge" },
      evidence: { CLICKHOUSE_HOST: { file: "README.md", line: 491, quote: "* `CLICKHOUSE_HOST`: The hostname of your ClickHouse server" }, CLICKHOUSE_INVENTED_FLAG: { file: "README.md", quote: "CLICKHOUSE_INVENTED_FLAG=1 enables magic" } },
    };
    fake.queueAnthropic({ content: [{ type: "tool_use", id: "toolu_ev", name: TOOL_NAME, input: entry }] });
    const p = await propose({ reader: reader(), claude: { client, model: "claude-test" } });
    assert.equal(p.validation.ok, true, p.validation.messages.join("\n"));
    const names = (p.entry.packages?.[0]?.environmentVariables ?? []).map((v) => v.name);
    assert.deepEqual(names, ["CLICKHOUSE_HOST"]);
    assert.equal(p.entry.router?.network, undefined, "never network: bridge");
    assert.ok(p.analysis.notes.some((n) => /lack of evidence/.test(n) && n.includes("CLICKHOUSE_INVENTED_FLAG")));
    // The daemon's own name and bridge egress never reach the evidence check: the sanitiser drops them, and says so.
    assert.ok(p.dropped.some((d) => d.from === "Claude" && d.what === "environment variable ANTHROPIC_API_KEY"), JSON.stringify(p.dropped));
    assert.ok(p.dropped.some((d) => d.from === "Claude" && d.path === "router.network" && /bridge/.test(d.what)));
    const request = fake.anthropicRequests[0] as { messages: { content: string }[]; tools: { input_schema: { properties: Record<string, unknown> } }[] };
    assert.match(request.messages[0]!.content, /<env_model>[\s\S]*"CLICKHOUSE_HOST"[\s\S]*"quote"/);
    assert.ok(request.tools[0]!.input_schema.properties.evidence);
  });

  it("renders every variable with its evidence and mode in the PR body, with reviewer TODOs", async () => {
    const p = await propose({ reader: reader(), noLlmReason: "no key" });
    const body = prBody(p);
    assert.match(body, /### Variables and their evidence/);
    assert.match(body, /\| `CLICKHOUSE_HOST` \| required, secret|\| `CLICKHOUSE_HOST` \| required \| default \(stdio\) \| \[README\.md:\d+\]/);
    assert.match(body, /Not proposed \(other modes\): .*`CLICKHOUSE_MCP_SERVER_TRANSPORT` \(http\)/);
  });
});

describe("evidence quotes in the PR body", () => {
  it("keep the name, lose a secret-looking name's value and any credential-looking word", () => {
    assert.equal(redactQuote("LEAKY_API_KEY=s3cr3t-planted-value npx -y leaky-mcp@1.0.0"), "LEAKY_API_KEY=<redacted> npx -y leaky-mcp@1.0.0");
    assert.equal(redactQuote(`"GITHUB_TOKEN": "ghp_abcdefghijklmnopqrstuvwxyz0123"`), `"GITHUB_TOKEN": "<redacted>"`);
    assert.equal(redactQuote("docker run -e SLACK_BOT_TOKEN=xoxb-1234-abcd mcp/slack"), "docker run -e SLACK_BOT_TOKEN=<redacted> mcp/slack");
    assert.equal(redactQuote("export OPENAI_KEY: sk-proj-abcdef"), "export OPENAI_KEY: <redacted>");
    assert.equal(redactQuote("curl -H 'x: AKIAIOSFODNN7EXAMPLE1'"), "curl -H 'x: <redacted>'");
  });

  it("leave placeholders, non-secret settings and prose alone", () => {
    for (const line of ["API_KEY=your-api-key-here", "GITHUB_TOKEN=${GITHUB_TOKEN}", "TOKEN=<token>", "LOG_LEVEL=debug", "PORT=8085", "Set `API_KEY` to your key."]) {
      assert.equal(redactQuote(line), line);
    }
  });
});
