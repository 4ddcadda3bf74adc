/**
 * The propose pipeline as ordered steps: evidence -> heuristics -> Claude (validated, repaired)
 * -> verify (one repair round) -> a proposal ready for a PR. Collaborators come in as parameters.
 */
import type { RegistryFile } from "../registry/types.js";
import { ClaudeProposer, type ClaudeProposerOptions } from "./claude-proposer.js";
import { gatherEvidence, type Evidence, type EvidenceLimits, type RepoReader } from "./evidence.js";
import { analyze, UNRESOLVED_VERSION, type Analysis } from "./heuristics.js";
import { resolveWithRegistry, type RegistryLookupOptions } from "./registry-lookup.js";
import { sanitizeProposal, type DroppedSetting } from "./sanitize-proposal.js";
import { validateProposal, type ProposalValidation } from "./validate-proposal.js";
import { toToolInfos, type VerifyFn } from "./verify.js";

export interface ProposeDeps {
  reader: RepoReader;
  /** Claude; absent means heuristics only (no API key, or --no-llm). */
  claude?: ClaudeProposerOptions;
  /** Why Claude is not used, for the PR body (e.g. "ANTHROPIC_API_KEY is not set"). */
  noLlmReason?: string;
  verify?: VerifyFn;
  log?: (message: string) => void;
  /** Package registries (npm, PyPI, OCI) to resolve versions and check packages exist; absent means offline. */
  registries?: RegistryLookupOptions;
}

export interface ProposeOptions {
  subfolder?: string;
  limits?: EvidenceLimits;
}

export interface Proposal {
  evidence: Evidence;
  analysis: Analysis;
  prefix: string;
  /** The final entry (valid when `validation.ok`). */
  entry: RegistryFile;
  validation: ProposalValidation;
  llm: { used: boolean; model?: string; rounds: number; reason?: string; fellBack?: string };
  verification: { status: "skipped" | "passed" | "failed"; repaired: boolean; toolCount?: number; error?: string };
  /** Values removed because they were secret. */
  removedSecrets: string[];
  /** Privileges the repository or Claude asked for and the proposal does not carry (where, what, why, from whom). */
  dropped: DroppedSetting[];
}

export async function propose(deps: ProposeDeps, options: ProposeOptions = {}): Promise<Proposal> {
  const log = deps.log ?? (() => {});
  log("gathering evidence");
  const evidence = await gatherEvidence(deps.reader, options.subfolder ?? "", options.limits);
  log(`evidence: ${evidence.files.map((f) => f.path).join(", ") || "(none)"}`);
  const analysis = analyze(evidence);
  const prefix = analysis.prefix;
  log(`heuristics: ${analysis.best ? `${analysis.best.runtime} ${analysis.best.identifier}` : "no candidate"}${analysis.authoritative ? " (server.json)" : ""}`);

  let entry = analysis.entry;
  if (deps.registries) {
    const checked = await resolveWithRegistry(entry, UNRESOLVED_VERSION, deps.registries);
    entry = checked.entry;
    analysis.notes.push(...checked.notes);
    if (checked.resolved) analysis.todos.splice(0, analysis.todos.length, ...analysis.todos.filter((t) => !t.includes(UNRESOLVED_VERSION)));
    analysis.todos.push(...checked.todos);
    analysis.entry = entry;
  }
  let validation = validateProposal(entry, prefix);
  const removedSecrets: string[] = [];
  const dropped: DroppedSetting[] = [...analysis.dropped];
  const llm: Proposal["llm"] = { used: false, rounds: 0, ...(deps.noLlmReason ? { reason: deps.noLlmReason } : {}) };
  let claude: ClaudeProposer | undefined;

  if (deps.claude) {
    claude = new ClaudeProposer(deps.claude, prefix);
    llm.used = true;
    llm.model = claude.model;
    log(`asking ${claude.model}`);
    const answer = await claude.propose(evidence, analysis);
    llm.rounds += answer.rounds;
    removedSecrets.push(...answer.removedSecrets);
    dropped.push(...answer.dropped);
    if (answer.droppedVariables.length) analysis.notes.push(`Dropped from Claude's answer for lack of evidence in the repository: ${answer.droppedVariables.map((d) => `\`${d}\``).join(", ")}.`);
    if (answer.entry && answer.validation?.ok) {
      entry = answer.entry;
      validation = answer.validation;
    } else if (!validation.ok && answer.entry && answer.validation) {
      // Neither is valid: show Claude's last answer and its errors.
      entry = answer.entry;
      validation = answer.validation;
    } else {
      llm.fellBack = `Claude's answer was still invalid after ${answer.rounds} round(s); the heuristic entry is proposed instead.`;
    }
  }

  const verification: Proposal["verification"] = { status: "skipped", repaired: false };
  if (deps.verify && validation.ok) {
    log("verifying: launching the server and listing its tools");
    let result = await deps.verify(entry, prefix);
    if (!result.ok && claude) {
      log(`verification failed (${result.error ?? "unknown error"}); one repair round`);
      const answer = await claude.repairAfterVerification(result.error ?? "unknown error");
      llm.rounds += answer.rounds;
      removedSecrets.push(...answer.removedSecrets);
      dropped.push(...answer.dropped);
      if (answer.entry && answer.validation?.ok) {
        entry = answer.entry;
        validation = answer.validation;
        verification.repaired = true;
        result = await deps.verify(entry, prefix);
      }
    }
    if (result.ok) {
      const tools = toToolInfos((result.tools ?? []) as unknown as Record<string, unknown>[]);
      entry = { ...entry, router: { ...(entry.router ?? { prefix }), prefix, tools } };
      validation = validateProposal(entry, prefix);
      verification.status = "passed";
      verification.toolCount = tools.length;
    } else {
      verification.status = "failed";
      verification.error = result.error ?? "unknown error";
    }
  }
  // The last gate: whatever path the entry took, it leaves without privileges.
  const final = sanitizeProposal(entry, "final check");
  if (final.dropped.length) {
    entry = final.entry;
    validation = validateProposal(entry, prefix);
    dropped.push(...final.dropped);
  }
  return { evidence, analysis, prefix, entry, validation, llm, verification, removedSecrets, dropped: unique(dropped) };
}

/** The same request seen twice (a repair round repeating it) is listed once. */
function unique(dropped: DroppedSetting[]): DroppedSetting[] {
  const seen = new Set<string>();
  return dropped.filter((d) => {
    const key = `${d.from ?? ""}|${d.path}|${d.what}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
