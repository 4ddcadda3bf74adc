import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { Command } from "commander";
import { TOOL_NAME } from "../../src/propose/claude-proposer.js";
import { registerProposeCommands } from "../../src/cli/propose-command.js";
import { parseRegistryFile } from "../../src/registry/parse-registry-file.js";
import { toRegistryYaml } from "../../src/registry/server-json.js";
import type { RegistryFile } from "../../src/registry/types.js";
import { FakeApis } from "../support/fake-apis.js";
import { FIXTURES } from "./dev-set.js";

const MEMORY_FILE = "registry/servers/memory.yaml";

function memoryEntry(version = "2025.8.4"): RegistryFile {
  return {
    name: "io.github.modelcontextprotocol/server-memory",
    description: "Knowledge-graph memory kept in a local JSONL file",
    version,
    repository: { url: "https://github.com/modelcontextprotocol/servers", source: "github", subfolder: "src/memory" },
    packages: [
      {
        registryType: "npm",
        identifier: "@modelcontextprotocol/server-memory",
        version,
        runtimeHint: "npx",
        transport: { type: "stdio" },
        environmentVariables: [{ name: "MEMORY_FILE_PATH", description: "Where the graph is stored", isRequired: false, format: "filepath" }],
      },
    ],
    router: { prefix: "memory" },
  };
}

const toolUse = (input: unknown) => ({ content: [{ type: "text", text: "Here is the file." }, { type: "tool_use", id: `toolu_${Math.random().toString(36).slice(2)}`, name: TOOL_NAME, input }] });

describe("the Action path: issue event -> propose --from-event --open-pr -> PR", () => {
  let fake: FakeApis;
  let dir: string;
  let out: string[];
  let err: string[];
  const issueEvent = {
    action: "opened",
    issue: {
      number: 12,
      title: "Add server: memory",
      body: "### Repository URL\n\nhttps://github.com/modelcontextprotocol/servers/tree/main/src/memory\n\n### Subfolder\n\n_No response_",
      labels: [{ name: "add-server" }],
      user: { login: "someone" },
    },
    repository: { full_name: "acme/registry" },
  };

  before(async () => {
    fake = await new FakeApis().start();
    fake.addRepoFromDir("modelcontextprotocol/servers", path.join(FIXTURES, "repos/servers-memory"), { description: "Model Context Protocol Servers" });
    fake.addRepo("acme/registry", { "README.md": "# registry\n", "registry/servers/.gitkeep": "" });
    dir = await mkdtemp(path.join(tmpdir(), "propose-e2e-"));
  });
  after(async () => {
    await fake.stop();
    await rm(dir, { recursive: true, force: true });
  });
  afterEach(() => {
    process.exitCode = 0;
  });

  async function run(args: string[], env: Record<string, string> = {}): Promise<void> {
    out = [];
    err = [];
    const program = new Command("mcp-router").exitOverride();
    registerProposeCommands(program, {
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      setExitCode: (code) => void (process.exitCode = code),
      githubThrottle: false, // the local fake has no rate limits to respect
      env: {
        GITHUB_TOKEN: "ghs_faketoken",
        GITHUB_API_URL: fake.githubUrl,
        GITHUB_REPOSITORY: "acme/registry",
        GITHUB_EVENT_NAME: "issues",
        GITHUB_OUTPUT: path.join(dir, "output"),
        ANTHROPIC_API_KEY: "sk-ant-fake",
        ANTHROPIC_BASE_URL: fake.anthropicUrl,
        ...env,
      },
    });
    await program.parseAsync(["node", "mcp-router", "propose", ...args]);
  }

  it("opens a PR with a valid file, a summary table, and comments the link on the issue", async () => {
    const eventPath = path.join(dir, "event.json");
    await writeFile(eventPath, JSON.stringify(issueEvent));
    // First answer invalid (range version, secret-less but bad prefix), repaired on the second.
    fake.queueAnthropic(toolUse({ ...memoryEntry(), version: "^2025.8.4", router: { prefix: "Memory Server" } }), toolUse(memoryEntry()));
    await run(["--from-event", eventPath, "--open-pr"]);
    assert.equal(process.exitCode, 0, err.join(""));

    const pulls = fake.pulls("acme/registry");
    assert.equal(pulls.length, 1);
    const pr = pulls[0]!;
    assert.equal(pr.head, "add-server/memory");
    assert.equal(pr.base, "main");
    assert.match(pr.title, /^Add memory/);
    const file = fake.fileOn("acme/registry", "add-server/memory", MEMORY_FILE);
    assert.ok(file, "file committed on the branch");
    const parsed = parseRegistryFile(MEMORY_FILE, file, "servers/memory.yaml");
    assert.deepEqual(parsed.diagnostics, []);
    assert.equal(parsed.entry?.packages?.[0]?.version, "2025.8.4");
    // One commit on top of main.
    assert.equal(fake.branchCommits("acme/registry", "add-server/memory").length, 2);
    // The body's table.
    assert.match(pr.body, /\| Runtime \| npx \(npm\) \|/);
    assert.match(pr.body, /\| Package \| `@modelcontextprotocol\/server-memory` \|/);
    assert.match(pr.body, /\| Version \| `2025\.8\.4` \|/);
    assert.match(pr.body, /\| Transport \| stdio \|/);
    assert.match(pr.body, /\| Env vars \| `MEMORY_FILE_PATH` \(optional\) \|/);
    assert.match(pr.body, /\| Network \| none \|/);
    assert.match(pr.body, /\| Tools found \| not verified \|/);
    assert.match(pr.body, /Requested in #12/);
    assert.match(pr.body, /✅ Valid against/);
    assert.match(pr.body, /claude-sonnet-5-5/);
    assert.match(pr.body, /\[src\/memory\/package\.json\]\(https:\/\/github\.com\/modelcontextprotocol\/servers\/blob\/main\/src\/memory\/package\.json\)/);
    // The link goes back on the issue, and into the step outputs.
    const comments = fake.comments("acme/registry");
    assert.equal(comments.length, 1);
    assert.equal(comments[0]!.issue, 12);
    assert.match(comments[0]!.body, /Opened https:\/\/github\.com\/acme\/registry\/pull\/1/);
    assert.match(await readFile(path.join(dir, "output"), "utf8"), /^pr-url=https:\/\/github\.com\/acme\/registry\/pull\/1$/m);
    // The token never reached the output.
    assert.doesNotMatch(out.join("") + err.join(""), /ghs_faketoken|sk-ant-fake/);
    // Evidence was read through the contents API, at the ref of the URL.
    assert.ok(fake.requests.some((r) => decodeURIComponent(r.path).startsWith("/github/repos/modelcontextprotocol/servers/contents/src/memory/package.json?ref=main")), fake.requests.map((r) => r.path).join("\n"));
    assert.equal(fake.requests.find((r) => r.path.startsWith("/github/repos/acme/registry/git/blobs"))?.headers.authorization, "token ghs_faketoken");
  });

  it("is idempotent: a second run moves the same branch and updates the same PR", async () => {
    const eventPath = path.join(dir, "event.json");
    fake.queueAnthropic(toolUse({ ...memoryEntry(), description: "Knowledge-graph memory (entities, relations, observations)" }));
    await run(["--from-event", eventPath, "--open-pr"]);
    assert.equal(process.exitCode, 0, err.join(""));
    const pulls = fake.pulls("acme/registry");
    assert.equal(pulls.length, 1);
    assert.match(fake.fileOn("acme/registry", "add-server/memory", MEMORY_FILE) ?? "", /entities, relations, observations/);
    assert.equal(fake.branchCommits("acme/registry", "add-server/memory").length, 2, "still one commit on top of main");
    assert.match(fake.comments("acme/registry").at(-1)!.body, /^Updated https:\/\/github\.com\/acme\/registry\/pull\/1/);
  });

  it("works without ANTHROPIC_API_KEY (heuristics only) and says so in the PR", async () => {
    fake.addRepoFromDir("tavily-ai/tavily-mcp", path.join(FIXTURES, "repos/tavily-mcp"));
    await run(["https://github.com/tavily-ai/tavily-mcp", "--open-pr"], { ANTHROPIC_API_KEY: "" });
    assert.equal(process.exitCode, 0, err.join(""));
    const pr = fake.pulls("acme/registry").find((p) => p.head === "add-server/tavily")!;
    assert.match(pr.body, /Heuristics only, no LLM\*\*: ANTHROPIC_API_KEY is not set/);
    assert.match(pr.body, /`TAVILY_API_KEY` \(required, secret\)/);
    assert.match(pr.body, /\| Network \| allow: api\.tavily\.com \|/);
    const file = fake.fileOn("acme/registry", "add-server/tavily", "registry/servers/tavily.yaml")!;
    assert.ok(parseRegistryFile("t", file, "servers/tavily.yaml").entry);
  });

  it("a server already in the registry gets an update PR, or a comment when nothing changed", async () => {
    fake.addRepo("acme/registry2", { "registry/servers/memory.yaml": toRegistryYaml({ ...memoryEntry("2025.7.1"), router: { prefix: "memory", lifecycle: "per-session" } }) });
    const withRegistry = { GITHUB_REPOSITORY: "acme/registry2" };
    fake.queueAnthropic(toolUse(memoryEntry()));
    await run(["https://github.com/modelcontextprotocol/servers/tree/main/src/memory", "--open-pr", "--issue", "4"], withRegistry);
    assert.equal(process.exitCode, 0, err.join(""));
    const pr = fake.pulls("acme/registry2")[0]!;
    assert.equal(pr.title, "Update memory: 2025.7.1 → 2025.8.4");
    const file = fake.fileOn("acme/registry2", "add-server/memory", MEMORY_FILE)!;
    assert.match(file, /lifecycle: per-session/, "reviewers' router settings are kept");

    // The same proposal against a registry that already has exactly this file: a comment, no PR.
    fake.addRepo("acme/registry3", { [MEMORY_FILE]: file });
    fake.queueAnthropic(toolUse({ ...memoryEntry(), router: { prefix: "memory", lifecycle: "per-session" } }));
    await run(["https://github.com/modelcontextprotocol/servers/tree/main/src/memory", "--open-pr", "--issue", "5"], { GITHUB_REPOSITORY: "acme/registry3" });
    assert.equal(process.exitCode, 0, err.join(""));
    assert.equal(fake.pulls("acme/registry3").length, 0);
    assert.match(fake.comments("acme/registry3")[0]?.body ?? "", /already up to date/);
  });

  it("--dry-run prints the file and the body and writes nothing", async () => {
    const before = fake.requests.filter((r) => r.method !== "GET").length;
    await run([path.join(FIXTURES, "repos/servers-slack"), "--subfolder", "src/slack", "--repository", "modelcontextprotocol/servers-archived", "--dry-run", "--open-pr", "--no-llm"]);
    assert.equal(process.exitCode, 0, err.join(""));
    const text = out.join("");
    assert.match(text, /^# registry\/servers\/slack\.yaml/);
    assert.match(text, /name: SLACK_BOT_TOKEN\n\s+isRequired: true\n\s+isSecret: true/);
    assert.match(text, /Heuristics only, no LLM\*\*: --no-llm was given/);
    assert.equal(fake.requests.filter((r) => r.method !== "GET").length, before);
  });

  it("tells the requester on the issue when the event cannot be proposed", async () => {
    const eventPath = path.join(dir, "bad-event.json");
    await writeFile(eventPath, JSON.stringify({ ...issueEvent, issue: { ...issueEvent.issue, number: 13, body: "### Repository URL\n\nhttps://github.com/nobody/missing" } }));
    await assert.rejects(run(["--from-event", eventPath, "--open-pr"]), /not found on GitHub/);
    const comment = fake.comments("acme/registry").find((c) => c.issue === 13);
    assert.match(comment?.body ?? "", /Could not propose[\s\S]*How to fix/);
  });
});
