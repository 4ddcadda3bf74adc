import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { REVIEW_MARKER } from "../../src/cli/review-command.js";
import { runCliInProcess } from "../support/cli.js";

const PRIVILEGED = `name: io.github.acme/docs
description: Reads the team's docs
version: 1.0.0
packages:
  - registryType: npm
    identifier: "@acme/docs-mcp"
    version: 1.0.0
    transport: {type: stdio}
    environmentVariables:
      - {name: ACME_TOKEN, description: Reads the docs API, isRequired: true, isSecret: true}
      - {name: GITHUB_TOKEN, description: Reads issues, isSecret: true}
router:
  prefix: docs
  network: bridge
  mounts: [{source: /srv/docs, target: /docs}]
  lifecycle: shared
  limits: {memory: 1g}
`;

const REFUSED_BY_RULES = `name: io.github.acme/bad
description: Loads a library
version: 1.0.0
packages:
  - registryType: npm
    identifier: bad-mcp
    version: 1.0.0
    transport: {type: stdio}
    runtimeArguments: [{type: named, name: --privileged}]
    environmentVariables:
      - {name: LD_PRELOAD, value: /tmp/x.so}
router: {prefix: bad}
`;

describe("mcp-router review", () => {
  let dir: string;
  let servers: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "review-"));
    servers = path.join(dir, "servers");
    mkdirSync(servers);
    writeFileSync(path.join(servers, "docs.yaml"), PRIVILEGED);
    writeFileSync(path.join(servers, "bad.yaml"), REFUSED_BY_RULES);
    writeFileSync(path.join(servers, "broken.yaml"), "name: x\n");
    writeFileSync(path.join(dir, "policy.yaml"), "mounts: [/srv/docs]\nnetwork: {bridge: true}\n");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("shows every privilege, marks what the default policy refuses, and exits 1", async () => {
    const run = await runCliInProcess(["review", path.join(servers, "docs.yaml")]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /✗ .*docs\.yaml/);
    assert.match(run.stdout, /secret +ACME_TOKEN \(required\).*\n +for: Reads the docs API/);
    assert.match(run.stdout, /⚠ secret +GITHUB_TOKEN \(optional\).*\n.*\n +⚠ also the name CI runners/);
    assert.match(run.stdout, /⛔ network +bridge: unrestricted egress/);
    assert.match(run.stdout, /⛔ mount +host \/srv\/docs → \/docs \(read-only\)/);
    assert.match(run.stdout, /⚠ lifecycle +shared: one long-lived instance/);
    assert.match(run.stdout, /⚠ limit +memory 1g .*\n +⚠ above the default of 512m/);
    assert.match(run.stdout, /2 setting\(s\) refused, \d+ marked \(checked against the default operator policy\)/);
    assert.match(run.stdout, /docs\.yaml:\d+:\d+ {2}router\.network: `network: bridge`/);
  });

  it("honours the program-wide --policy: what it allows is still shown and marked, and the exit status is 0", async () => {
    const run = await runCliInProcess(["--policy", path.join(dir, "policy.yaml"), "review", path.join(servers, "docs.yaml")]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /✓ .*docs\.yaml/);
    assert.match(run.stdout, /⚠ network +bridge/);
    assert.match(run.stdout, /Nothing refused \(checked against the operator policy .*policy\.yaml\)/);
  });

  it("still summarises a file the registry rules refuse, and exits 1", async () => {
    const run = await runCliInProcess(["review", path.join(servers, "bad.yaml")]);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /⛔ runtime argument +--privileged/);
    assert.match(run.stdout, /⛔ environment variable +LD_PRELOAD \(a fixed value in the file\)/);
    assert.doesNotMatch(run.stdout, /\/tmp\/x\.so/, "fixed values are named, not printed");
  });

  it("writes one markdown comment for several files, with the marker the workflow updates it by", async () => {
    const run = await runCliInProcess(["review", "--format", "markdown", path.join(servers, "docs.yaml"), path.join(servers, "bad.yaml"), path.join(servers, "broken.yaml")]);
    assert.equal(run.code, 1);
    assert.ok(run.stdout.startsWith(`${REVIEW_MARKER}\n## What these servers may do`));
    assert.match(run.stdout, /### ❌ `.*docs\.yaml`\n\n\*\*io\.github\.acme\/docs\*\*/);
    assert.match(run.stdout, /\| ⛔ \| mount \| host `\/srv\/docs` → `\/docs` \(read-only\) \|/);
    assert.match(run.stdout, /### ❌ `.*broken\.yaml`\n\nNo summary: the file does not have the registry schema's shape/);
    assert.match(run.stdout, /<details><summary>Problems<\/summary>/);
  });

  it("answers in JSON for tools, and refuses an unknown format or a missing file with what to do", async () => {
    const run = await runCliInProcess(["review", "--format", "json", path.join(servers, "docs.yaml")]);
    const report = JSON.parse(run.stdout) as { ok: boolean; policy: string; files: { ok: boolean; summary: { refusedCount: number; items: { setting: string }[] } }[] };
    assert.equal(report.ok, false);
    assert.equal(report.policy, "the default operator policy");
    assert.equal(report.files[0]?.summary.refusedCount, 2);
    assert.ok(report.files[0]?.summary.items.some((i) => i.setting === "mount"));
    const format = await runCliInProcess(["review", "--format", "html", path.join(servers, "docs.yaml")]);
    assert.equal(format.code, 2);
    assert.match(format.stderr, /--format must be human, markdown, json/);
    const missing = await runCliInProcess(["review", path.join(servers, "nope.yaml")]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nope\.yaml cannot be read \(ENOENT\); give the path of a registry file/);
  });
});
