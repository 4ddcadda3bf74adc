import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { issueFormFields, requestFromEvent } from "../../src/propose/action-event.js";
import { ProposeError } from "../../src/propose/errors.js";
import { parseSourceSpec } from "../../src/propose/source-spec.js";

describe("parseSourceSpec", () => {
  it("reads repo URLs, monorepo tree URLs, shorthand and ssh", () => {
    assert.deepEqual(parseSourceSpec("https://github.com/github/github-mcp-server"), { kind: "github", owner: "github", repo: "github-mcp-server" });
    assert.deepEqual(parseSourceSpec("https://github.com/modelcontextprotocol/servers/tree/main/src/memory"), {
      kind: "github",
      owner: "modelcontextprotocol",
      repo: "servers",
      ref: "main",
      subfolder: "src/memory",
    });
    assert.deepEqual(parseSourceSpec("github.com/o/r.git"), { kind: "github", owner: "o", repo: "r" });
    assert.deepEqual(parseSourceSpec("o/r"), { kind: "github", owner: "o", repo: "r" });
    assert.deepEqual(parseSourceSpec("git@github.com:o/r.git"), { kind: "github", owner: "o", repo: "r" });
    assert.deepEqual(parseSourceSpec("https://github.com/o/r/tree/v1.2.0"), { kind: "github", owner: "o", repo: "r", ref: "v1.2.0" });
  });

  it("reads local paths", () => {
    const spec = parseSourceSpec("./some/checkout");
    assert.equal(spec.kind, "local");
    assert.equal(parseSourceSpec("checkout", () => true).kind, "local");
  });

  it("rejects other input with a code and a hint", () => {
    for (const bad of ["https://gitlab.com/o/r", "", "not a url at all", "https://github.com/only-owner"]) {
      assert.throws(() => parseSourceSpec(bad), (err: unknown) => err instanceof ProposeError && err.code === "PROPOSE_BAD_SOURCE" && err.hint.length > 0);
    }
  });
});

describe("requestFromEvent", () => {
  const issueBody = "### Repository URL\n\nhttps://github.com/modelcontextprotocol/servers/tree/main/src/memory\n\n### Subfolder\n\n_No response_\n\n### Notes\n\nplease";
  it("reads an issue opened from the add-server template", () => {
    const r = requestFromEvent({ action: "opened", issue: { number: 7, title: "Add server", body: issueBody, labels: [{ name: "add-server" }] }, repository: { full_name: "acme/registry" } }, "issues");
    assert.deepEqual(r, { eventName: "issues", url: "https://github.com/modelcontextprotocol/servers/tree/main/src/memory", issueNumber: 7, repository: "acme/registry" });
    assert.equal(issueFormFields(issueBody).notes, "please");
  });

  it("reads a labelled issue, workflow_dispatch and repository_dispatch", () => {
    const labelled = requestFromEvent({ action: "labeled", label: { name: "add-server" }, issue: { number: 3, body: "see https://github.com/o/r please", labels: [] } });
    assert.equal(labelled.url, "https://github.com/o/r");
    assert.equal(labelled.issueNumber, 3);
    const wd = requestFromEvent({ inputs: { "repo-url": " https://github.com/o/r ", verify: "true", model: "claude-x" } }, "workflow_dispatch");
    assert.deepEqual(wd, { eventName: "workflow_dispatch", url: "https://github.com/o/r", model: "claude-x", verify: true });
    const rd = requestFromEvent({ action: "propose-server", client_payload: { repo_url: "https://github.com/o/r", issue_number: 9 } });
    assert.equal(rd.eventName, "repository_dispatch");
    assert.equal(rd.issueNumber, 9);
  });

  it("refuses issues that are not requests, and requests without a URL", () => {
    assert.throws(() => requestFromEvent({ action: "opened", issue: { number: 1, body: "https://github.com/o/r", labels: [] } }, "issues"), /not an add-server request/);
    assert.throws(() => requestFromEvent({ action: "opened", issue: { number: 1, body: "no url", labels: ["add-server"] } }, "issues"), /no https:\/\/github.com/);
    assert.throws(() => requestFromEvent({ inputs: {} }, "workflow_dispatch"), /repo-url/);
    assert.throws(() => requestFromEvent({ ref: "x" }, "push"), /not one propose handles/);
  });
});
