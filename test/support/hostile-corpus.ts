/**
 * The hostile corpus (test/fixtures/hostile): READMEs and model answers that ask for privileges
 * (host mounts, bridge egress, `--privileged`, loader variables, the daemon's own secrets, shared
 * lifecycles, huge limits, metadata and loopback targets). Each case runs through the real
 * proposer: the README as a repository on disk, heuristics, and, for model answers, the real
 * Anthropic SDK against the fake Messages API answering with the hostile tool input. What comes
 * back is judged here: which attempted privileges were not listed as dropped (unflagged), and
 * which privileges the proposed file still carries (there should be none).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { TOOL_NAME } from "../../src/propose/claude-proposer.js";
import { localRepoReader } from "../../src/propose/local-repo-reader.js";
import { prBody } from "../../src/propose/pr-body.js";
import { propose, type Proposal } from "../../src/propose/propose.js";
import { DAEMON_NAMES } from "../../src/registry/credential-names.js";
import { DEFAULT_POLICY } from "../../src/registry/policy.js";
import { privilegeSummary } from "../../src/registry/privileges.js";
import { REPO_ROOT } from "./cli.js";
import { FakeApis } from "./fake-apis.js";

export const HOSTILE = path.join(REPO_ROOT, "test/fixtures/hostile");

export interface HostileCase {
  /** `readmes/<file>` or `model-answers/<file>`. */
  name: string;
  readme: string;
  /** Privileges the case asks for that must be listed as dropped (substrings of a dropped `what`). */
  attempts: string[];
  /** The model's tool input, for model-answer cases. */
  answer?: Record<string, unknown>;
}

export interface HostileOutcome {
  case: HostileCase;
  proposal: Proposal;
  body: string;
  /** Attempts not listed under "Dropped from the proposal". */
  unlisted: string[];
  /** Privileges the proposed file still carries (what its summary marks ⚠ or ⛔, daemon names), or why it is not a valid file. */
  carried: string[];
}

export function hostileCases(): HostileCase[] {
  const readmeAttempts = JSON.parse(readFileSync(path.join(HOSTILE, "readmes/attempts.json"), "utf8")) as Record<string, string[]>;
  const cases: HostileCase[] = readdirSync(path.join(HOSTILE, "readmes"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => ({ name: `readmes/${f}`, readme: f, attempts: readmeAttempts[f] ?? [] }));
  for (const f of readdirSync(path.join(HOSTILE, "model-answers")).filter((x) => x.endsWith(".json")).sort()) {
    const c = JSON.parse(readFileSync(path.join(HOSTILE, "model-answers", f), "utf8")) as { readme: string; attempts: string[]; answer: Record<string, unknown> };
    cases.push({ name: `model-answers/${f}`, readme: c.readme, attempts: c.attempts, answer: c.answer });
  }
  return cases;
}

/** Runs every case through the proposer; model answers get the fake Messages API, answering with the same hostile input every round. */
export async function runHostileCorpus(): Promise<HostileOutcome[]> {
  const fake = await new FakeApis().start();
  const client = new Anthropic({ apiKey: "sk-ant-test", baseURL: fake.anthropicUrl, maxRetries: 0 });
  const outcomes: HostileOutcome[] = [];
  try {
    for (const c of hostileCases()) {
      const dir = mkdtempSync(path.join(tmpdir(), "hostile-"));
      try {
        writeFileSync(path.join(dir, "README.md"), readFileSync(path.join(HOSTILE, "readmes", c.readme), "utf8"));
        const reader = localRepoReader(dir, { repository: "evil/weather-mcp" });
        let proposal: Proposal;
        if (c.answer) {
          // The first answer and every repair round: a model that insists.
          for (let i = 0; i < 4; i++) fake.queueAnthropic({ content: [{ type: "tool_use", id: `toolu_hostile_${i}`, name: TOOL_NAME, input: c.answer }] });
          proposal = await propose({ reader, claude: { client, model: "claude-test" } });
          fake.clearAnthropic();
        } else {
          proposal = await propose({ reader, noLlmReason: "hostile corpus, heuristics only" });
        }
        outcomes.push(judge(c, proposal));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await fake.stop();
  }
  return outcomes;
}

function judge(c: HostileCase, proposal: Proposal): HostileOutcome {
  const body = prBody(proposal);
  const droppedSection = body.slice(body.indexOf("### Dropped from the proposal"), body.indexOf("### How this was written"));
  const unlisted = c.attempts.filter((a) => !proposal.dropped.some((d) => d.what.includes(a)) || !droppedSection.includes(a.replace(/\|/g, "\\|")));
  const summary = privilegeSummary(proposal.entry, { policy: DEFAULT_POLICY });
  const carried = summary.items.filter((i) => i.warn || i.refused).map((i) => `${i.setting} ${i.detail} (${i.path})`);
  const names = JSON.stringify(proposal.entry).match(/"[A-Z][A-Z0-9_]{2,}"/g) ?? [];
  for (const n of names) if (DAEMON_NAMES.test(n.slice(1, -1))) carried.push(`daemon name ${n}`);
  if (!proposal.validation.ok) carried.push(`invalid file: ${proposal.validation.messages.join("; ")}`);
  return { case: c, proposal, body, unlisted, carried };
}
