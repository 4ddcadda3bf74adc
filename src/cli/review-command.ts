/**
 * `review`: what registry files let their servers do, for the person approving them. Prints each
 * file's privilege summary (secrets and store values with what they are for, egress, mounts,
 * lifecycle, limits, arguments, remote and OpenAPI targets, builds), marked where it goes beyond
 * the defaults and where the registry rules or the operator policy (`--policy`) refuse it. The
 * markdown form is what the validate workflow posts on a pull request.
 */
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import type { Diagnostic } from "../registry/diagnostic.js";
import type { OperatorPolicy } from "../registry/policy.js";
import type { PrivilegeSummary } from "../registry/privileges.js";
import { CliError } from "./registry-commands.js";

export interface ReviewCommandDeps {
  stdout: (text: string) => void;
  setExitCode(code: number): void;
  /** The operator policy files are checked against (--policy; the strictest by default). */
  policy(): Promise<OperatorPolicy>;
}

/** The first line of the markdown form: the validate workflow finds its earlier comment by it and updates it. */
export const REVIEW_MARKER = "<!-- mcp-router:review -->";

const FORMATS = ["human", "markdown", "json"] as const;
type Format = (typeof FORMATS)[number];

export interface FileReview {
  file: string;
  /** Nothing refused: the schema, the file rules and the policy all pass. */
  ok: boolean;
  diagnostics: Diagnostic[];
  /** Absent when the file does not have the schema's shape (its diagnostics say why). */
  summary?: PrivilegeSummary;
}

export function registerReviewCommand(program: Command, deps: ReviewCommandDeps): void {
  program
    .command("review")
    .description("show what registry files let their servers do: secrets, egress, mounts, lifecycle, limits, arguments, targets")
    .argument("<files...>", "registry files (servers/<prefix>.yaml)")
    .option("--format <format>", "output: human, markdown (for a pull request comment) or json", "human")
    .addHelpText(
      "after",
      "\n⚠ marks what goes beyond the defaults or names a credential that is also the daemon's or CI's;\n⛔ marks what the registry rules or the operator policy refuse. Give the daemon's policy with\n--policy (before the command), or the strictest default applies. Exit status is 0 when nothing\nis refused, 1 otherwise. No secret value is ever shown: files hold only names.",
    )
    .action(async (files: string[], opts: { format: string }) => {
      if (!(FORMATS as readonly string[]).includes(opts.format)) throw new CliError(`--format must be ${FORMATS.join(", ")}, not "${opts.format}"`, 2);
      const format = opts.format as Format;
      const policy = await deps.policy();
      const reviews: FileReview[] = [];
      for (const file of files) reviews.push(await reviewFile(file, policy));
      const ok = reviews.every((r) => r.ok);
      if (format === "json") deps.stdout(JSON.stringify({ ok, policy: policy.source, files: reviews }, null, 2) + "\n");
      else deps.stdout(format === "markdown" ? await markdownReport(reviews, policy) : await humanReport(reviews));
      deps.setExitCode(ok ? 0 : 1);
    });
}

async function reviewFile(file: string, policy: OperatorPolicy): Promise<FileReview> {
  const [{ parseRegistryFile }, { policyRules }, { privilegeSummary }, { formatPath }, { MAX_FILE_BYTES }] = await Promise.all([
    import("../registry/parse-registry-file.js"),
    import("../registry/policy.js"),
    import("../registry/privileges.js"),
    import("../registry/diagnostic.js"),
    import("../registry/loader.js"),
  ]);
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (err) {
    throw new CliError(`${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give the path of a registry file such as servers/memory.yaml`);
  }
  if (size > MAX_FILE_BYTES) throw new CliError(`${file} is ${size} bytes, more than a registry file may be (${MAX_FILE_BYTES}); the registry refuses it unread`);
  const parsed = parseRegistryFile(file, await readFile(file, "utf8"), `servers/${path.basename(file)}`);
  const document = parsed.entry ?? parsed.document;
  const refusedByPolicy = document ? policyRules(document, policy) : [];
  const diagnostics = [
    ...parsed.diagnostics,
    ...refusedByPolicy.map((p): Diagnostic => ({ file, ...parsed.locate(p.segments), path: formatPath(p.segments), rule: p.rule, message: p.message, ...(p.hint ? { hint: p.hint } : {}) })),
  ];
  const summary = document ? privilegeSummary(document, { policy }) : undefined;
  return { file, ok: diagnostics.length === 0 && (summary?.refusedCount ?? 0) === 0, diagnostics, ...(summary ? { summary } : {}) };
}

async function humanReport(reviews: FileReview[]): Promise<string> {
  const [{ privilegeText }, { formatDiagnostic }] = await Promise.all([import("../registry/privileges.js"), import("../registry/diagnostic.js")]);
  const parts = reviews.map((r) => {
    const lines = [`${r.ok ? "✓" : "✗"} ${r.file}`];
    if (r.summary) lines.push(privilegeText(r.summary).trimEnd());
    else lines.push("  (no summary: the file does not have the registry schema's shape; fix the problems below first)");
    if (r.diagnostics.length) lines.push("", ...r.diagnostics.map(formatDiagnostic));
    return lines.join("\n");
  });
  return parts.join("\n\n") + "\n";
}

async function markdownReport(reviews: FileReview[], policy: OperatorPolicy): Promise<string> {
  const [{ privilegeMarkdown }, { formatDiagnostic }] = await Promise.all([import("../registry/privileges.js"), import("../registry/diagnostic.js")]);
  const lines = [REVIEW_MARKER, "## What these servers may do", "", `Generated by \`mcp-router review\` against ${policy.source}. Secret values never appear here: registry files hold only their names.`];
  for (const r of reviews) {
    lines.push("", `### ${r.ok ? "✅" : "❌"} \`${r.file.replace(/[`\r\n]/g, "")}\``, "");
    if (r.summary) lines.push(privilegeMarkdown(r.summary, `**${r.summary.name.replace(/[*_`<>[\]|\r\n]/g, "")}**`).trimEnd());
    else lines.push("No summary: the file does not have the registry schema's shape; the problems below say why.");
    if (r.diagnostics.length) lines.push("", "<details><summary>Problems</summary>", "", "```", ...r.diagnostics.map((d) => formatDiagnostic(d).replace(/```/g, "'''")), "```", "", "</details>");
  }
  return lines.join("\n") + "\n";
}
