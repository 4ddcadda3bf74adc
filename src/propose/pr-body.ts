/**
 * The pull request's title and body: a summary table a reviewer can check at a glance, every
 * privilege the file asks for (the registry's privilege summary) and every one the repository or
 * Claude asked for that was dropped, the evidence links, and honest validation and verification
 * outcomes.
 */
import { DEFAULT_POLICY } from "../registry/policy.js";
import { privilegeMarkdown, privilegeSummary } from "../registry/privileges.js";
import type { RegistryFile } from "../registry/types.js";
import type { Proposal } from "./propose.js";
import { redactQuote } from "./strip-secrets.js";

export const BODY_MARKER = "<!-- mcp-router:propose -->";

export function prTitle(proposal: Proposal, existing?: RegistryFile): string {
  const v = proposal.entry.version;
  if (existing) return existing.version !== v ? `Update ${proposal.prefix}: ${existing.version} → ${v}` : `Update ${proposal.prefix} (${v})`;
  return `Add ${proposal.prefix} (${proposal.entry.name}${v ? ` ${v}` : ""})`;
}

export function prBody(proposal: Proposal, options: { issueNumber?: number; existing?: RegistryFile } = {}): string {
  const { entry, validation, verification, llm, evidence, analysis } = proposal;
  const pkg = entry.packages?.[entry.router?.package ?? 0];
  const remote = entry.remotes?.[entry.router?.remote ?? 0];
  const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
  const rows: [string, string][] = [];
  rows.push(["Server", `\`${entry.name}\``]);
  if (pkg) {
    rows.push(["Runtime", `${pkg.runtimeHint ?? "-"} (${pkg.registryType})`]);
    rows.push(["Package", `\`${pkg.identifier}\``]);
    rows.push(["Version", pkg.version ? `\`${pkg.version}\`` : pkg.registryType === "oci" ? "(image tag)" : "**missing**"]);
    rows.push(["Transport", pkg.transport.type]);
  } else if (remote) {
    rows.push(["Runtime", "remote"]);
    rows.push(["URL", `\`${remote.url}\``]);
    rows.push(["Version", `\`${entry.version}\``]);
    rows.push(["Transport", remote.type]);
  }
  const vars = pkg ? (pkg.environmentVariables ?? []) : (remote?.headers ?? []);
  rows.push([
    pkg ? "Env vars" : "Headers",
    vars.length ? vars.map((v) => `\`${v.name}\` (${v.isRequired ? "required" : "optional"}${v.isSecret ? ", secret" : ""})`).join("<br>") : "none",
  ]);
  const net = entry.router?.network;
  rows.push(["Network", pkg ? (net === undefined ? "none" : typeof net === "string" ? net : `allow: ${net.allow.join(", ")}`) : "remote (proxied)"]);
  const tools = entry.router?.tools ?? [];
  rows.push(["Tools found", verification.status === "passed" ? (tools.length ? `${tools.length}: ${tools.slice(0, 12).map((t) => `\`${t.name}\``).join(", ")}${tools.length > 12 ? ", …" : ""}` : "0") : "not verified"]);

  const lines: string[] = [BODY_MARKER];
  lines.push(
    options.existing
      ? `Updates \`${validation.file}\` for **${entry.name}** (registry has ${options.existing.version}, proposed ${entry.version}).`
      : `Adds \`${validation.file}\` for **${entry.name}**.`,
  );
  if (options.issueNumber !== undefined) lines.push(`\nRequested in #${options.issueNumber}.`);
  lines.push("", "| | |", "| --- | --- |", ...rows.map(([k, v]) => `| ${k} | ${cell(v)} |`));

  lines.push("", privilegeMarkdown(privilegeSummary(entry, { policy: DEFAULT_POLICY })).trimEnd());
  lines.push(...droppedSection(proposal));

  lines.push("", "### How this was written");
  if (analysis.authoritative) lines.push("- The repository publishes its own `server.json`; it was taken as authoritative.");
  if (llm.used) lines.push(`- Proposed by Claude (\`${llm.model}\`, ${llm.rounds} request(s)) from the evidence below, checked against the heuristics.${llm.fellBack ? ` ${llm.fellBack}` : ""}`);
  else lines.push(`- **Heuristics only, no LLM**${llm.reason ? `: ${llm.reason}` : ""}. Review every field.`);
  for (const n of analysis.notes) lines.push(`- ${n}`);
  if (proposal.removedSecrets.length) lines.push(`- Secret values were removed from: ${proposal.removedSecrets.map((p) => `\`${p}\``).join(", ")}.`);

  if (analysis.todos.length) {
    lines.push("", "### Reviewer TODO");
    for (const todo of analysis.todos) lines.push(`- [ ] ${todo}`);
  }
  if (analysis.disagreements.length) {
    lines.push("", "### Evidence that disagrees");
    for (const d of analysis.disagreements) lines.push(`- ${d}`);
  }
  lines.push(...variableTable(proposal));

  lines.push("", "### Validation");
  lines.push(validation.ok ? "✅ Valid against `schemas/server.schema.json` and the registry's file rules." : "❌ Not valid:");
  if (!validation.ok) lines.push("```", ...validation.messages, "```");

  lines.push("", "### Verification");
  if (verification.status === "skipped") lines.push("Not run (start the server with `mcp-router tools` or re-run the Action with `verify: true`).");
  else if (verification.status === "passed") lines.push(`✅ Launched, initialized and listed ${verification.toolCount ?? 0} tool(s)${verification.repaired ? " after one repair round" : ""}; they are recorded in \`router.tools\`.`);
  else lines.push(`❌ Launching failed${verification.repaired ? " (also after one repair round)" : ""}:`, "```", (verification.error ?? "").slice(0, 2000), "```");

  lines.push("", "### Evidence");
  lines.push(`- Repository: ${evidence.meta.htmlUrl}${evidence.subfolder ? ` (subfolder \`${evidence.subfolder}\`)` : ""} at \`${evidence.meta.ref}\``);
  for (const f of evidence.files) lines.push(`- [${f.path}](${f.url}) (${f.kind}${f.truncated ? ", truncated" : ""})`);
  const best = analysis.best;
  if (best) {
    lines.push("", "<details><summary>Heuristic candidates</summary>", "");
    for (const c of analysis.candidates.slice(0, 6)) {
      lines.push(`- ${c === best ? "**chosen** " : ""}${c.runtime} \`${c.identifier}\`${c.version ? `@${c.version}` : ""} (score ${c.score}) from ${c.evidence.map((e) => (e.url.startsWith("http") ? `[${e.note}](${e.url})` : e.note)).join(", ")}`);
    }
    lines.push("", "</details>");
  }
  lines.push("", "_Opened by `mcp-router propose`. Text from the repository was treated as data, not instructions._");
  return lines.join("\n") + "\n";
}

/** What the repository or Claude asked for that the proposal does not carry: each with where it was asked, and why. */
function droppedSection(proposal: Proposal): string[] {
  if (!proposal.dropped.length) return ["", "### Dropped from the proposal", "", "Nothing: no privilege was asked for beyond what is shown above."];
  const code = (s: string) => `\`${s.replace(/\|/g, "\\|").replace(/[\r\n`]+/g, " ")}\``;
  const prose = (s: string) => s.replace(/\|/g, "\\|").replace(/[\r\n]+/g, " ").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const out = ["", "### Dropped from the proposal", "", "Asked for by the evidence or the model, and not proposed: a reviewer who wants one adds it deliberately, within the operator policy.", ""];
  out.push("| What | Asked for in | By | Why |", "| --- | --- | --- | --- |");
  for (const d of proposal.dropped) out.push(`| ${code(d.what)} | ${code(d.path)} | ${prose(d.from ?? "-")} | ${prose(d.why)} |`);
  return out;
}

/** Every proposed variable and argument with the evidence it rests on (file:line and the line quoted) and the mode it belongs to. */
function variableTable(proposal: Proposal): string[] {
  const { entry, analysis } = proposal;
  const pkg = entry.packages?.[entry.router?.package ?? 0];
  const vars = pkg?.environmentVariables ?? entry.remotes?.[0]?.headers ?? [];
  const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ").replace(/`/g, "'");
  const out: string[] = [];
  if (vars.length) {
    out.push("", "### Variables and their evidence", "", "| Variable | Verdict | Mode | Evidence |", "| --- | --- | --- | --- |");
    for (const v of vars) {
      const f = analysis.env.find((e) => e.name === v.name);
      const verdict = `${v.isRequired ? "required" : "optional"}${v.isSecret ? ", secret" : ""}${f?.oneOf ? ` (${f.oneOf})` : ""}`;
      const refs = (f?.evidence ?? []).slice(0, 3).map((e) => `${e.line ? `[${e.path}:${e.line}](${e.url})` : e.path} ${e.note}${e.quote ? `: \`${cell(redactQuote(e.quote)).slice(0, 90)}\`` : ""}`);
      out.push(`| \`${v.name}\` | ${verdict} | ${f?.mode === "default" || !f ? "default (stdio)" : f.mode} | ${refs.join("<br>") || "declared by the proposal only"} |`);
    }
  }
  const args = pkg?.packageArguments ?? [];
  if (args.length) {
    const from = analysis.best?.evidence.find((e) => e.line !== undefined) ?? analysis.best?.evidence[0];
    out.push("", "### Arguments", "");
    for (const a of args) {
      const text = a.type === "named" ? `${a.name}${a.value !== undefined ? ` ${a.value}` : ""}` : (a.value ?? `<${a.valueHint ?? "value"}>`);
      out.push(`- \`${cell(text)}\` (${a.type}) from ${from ? `${from.line ? `${from.path}:${from.line}` : from.path} (${from.note})${from.quote ? `: \`${cell(redactQuote(from.quote)).slice(0, 90)}\`` : ""}` : "the proposal"}`);
    }
  }
  const left = analysis.env.filter((e) => e.mode !== "default");
  if (left.length) out.push("", `Not proposed (other modes): ${left.map((e) => `\`${e.name}\` (${e.mode})`).join(", ")}.`);
  return out;
}
