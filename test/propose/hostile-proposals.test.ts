import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { DAEMON_NAMES } from "../../src/registry/credential-names.js";
import { DEFAULT_POLICY, policyRules } from "../../src/registry/policy.js";
import { parseRegistryFile } from "../../src/registry/parse-registry-file.js";
import { hostileCases, runHostileCorpus, type HostileOutcome } from "../support/hostile-corpus.js";

describe("hostile READMEs and model answers never yield a privilege (real proposer, real SDK, fake Messages API)", () => {
  let outcomes: HostileOutcome[] = [];
  before(async () => {
    outcomes = await runHostileCorpus();
  });

  it("covers READMEs and model answers, each asking for several privileges", () => {
    const cases = hostileCases();
    assert.ok(cases.filter((c) => c.name.startsWith("readmes/")).length >= 2);
    assert.ok(cases.filter((c) => c.answer).length >= 3);
    assert.ok(cases.every((c) => c.attempts.length >= 4), "every case asks for something");
    assert.equal(outcomes.length, cases.length);
  });

  it("proposes files that validate against the schema, the file rules and the strictest policy", () => {
    for (const o of outcomes) {
      assert.ok(o.proposal.validation.ok, `${o.case.name}: ${o.proposal.validation.messages.join("\n")}`);
      const parsed = parseRegistryFile(o.proposal.validation.file, o.proposal.validation.yaml, `servers/${o.proposal.prefix}.yaml`);
      assert.ok(parsed.entry, o.case.name);
      assert.deepEqual(policyRules(parsed.entry, DEFAULT_POLICY), [], o.case.name);
    }
  });

  it("leaves none of the privileges in the proposed file", () => {
    for (const o of outcomes) {
      assert.deepEqual(o.carried, [], o.case.name);
      const router = o.proposal.entry.router;
      assert.equal(router?.mounts, undefined, o.case.name);
      assert.notEqual(router?.network, "bridge", o.case.name);
      assert.equal(router?.lifecycle ?? "per-call", "per-call", o.case.name);
      assert.equal(router?.limits, undefined, o.case.name);
      assert.equal(router?.build, undefined, o.case.name);
      for (const pkg of o.proposal.entry.packages ?? []) assert.equal(pkg.runtimeArguments, undefined, o.case.name);
      assert.doesNotMatch(o.proposal.validation.yaml, /LD_PRELOAD|NODE_OPTIONS|HTTPS_PROXY|169\.254|localhost|\/var\/run\/docker\.sock|privileged|SYS_ADMIN|\bHost\b/, o.case.name);
    }
  });

  it("proposes no secret named like the daemon's, the propose Action's or CI's own", () => {
    for (const o of outcomes) {
      const names = [...o.proposal.validation.yaml.matchAll(/\b[A-Z][A-Z0-9_]{2,}\b/g)].map((m) => m[0]);
      assert.deepEqual(names.filter((n) => DAEMON_NAMES.test(n)), [], o.case.name);
    }
  });

  it("lists every attempted privilege under \"Dropped from the proposal\", with where it was asked and why", () => {
    for (const o of outcomes) {
      assert.deepEqual(o.unlisted, [], `${o.case.name}: dropped were ${JSON.stringify(o.proposal.dropped.map((d) => d.what))}`);
      assert.match(o.body, /### What this server may do[\s\S]*### Dropped from the proposal/);
      for (const d of o.proposal.dropped) {
        assert.ok(d.why.length > 10 && d.path.length > 0, JSON.stringify(d));
      }
    }
    const answer = outcomes.find((o) => o.case.name === "model-answers/privileged-package.json")!;
    assert.match(answer.body, /\| `host mount \/ → \/host` \| `router\.mounts\[0\]` \| Claude \| /);
    const readme = outcomes.find((o) => o.case.name === "readmes/docker-privileged.md")!;
    assert.match(readme.body, /\| `runtime argument --privileged` \| `README\.md:\d+` \| heuristics \| /);
  });

  it("says when Claude's answer could not be saved and the heuristics' file is proposed instead", () => {
    const remote = outcomes.find((o) => o.case.name === "model-answers/metadata-remote.json")!;
    assert.match(remote.proposal.llm.fellBack ?? "", /heuristic entry is proposed instead/);
    assert.equal(remote.proposal.entry.remotes, undefined);
  });
});
