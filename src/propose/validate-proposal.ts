/**
 * Validates a proposed entry with the registry's own loader: rendered to YAML first (with
 * `toRegistryYaml`) so every problem is located at a line and column of the file a reviewer sees.
 * The same checks as `mcp-router validate` with no `--policy`: the schema, the file rules, and the
 * strictest operator policy (a proposal never needs more).
 */
import { formatDiagnostic, formatPath, type Diagnostic } from "../registry/diagnostic.js";
import { parseRegistryFile } from "../registry/parse-registry-file.js";
import { DEFAULT_POLICY, policyRules } from "../registry/policy.js";
import { toRegistryYaml } from "../registry/server-json.js";
import type { RegistryFile } from "../registry/types.js";

export interface ProposalValidation {
  ok: boolean;
  yaml: string;
  /** The file's path in the registry repo, `registry/servers/<prefix>.yaml`. */
  file: string;
  diagnostics: Diagnostic[];
  /** Formatted, one per problem. */
  messages: string[];
}

export const SERVERS_DIR = "registry/servers";

export function validateProposal(entry: RegistryFile, prefix: string): ProposalValidation {
  const file = `${SERVERS_DIR}/${prefix}.yaml`;
  const yaml = toRegistryYaml(entry);
  const parsed = parseRegistryFile(file, yaml, `servers/${prefix}.yaml`);
  const refused = parsed.entry ? policyRules(parsed.entry, DEFAULT_POLICY) : [];
  const diagnostics = [
    ...parsed.diagnostics,
    ...refused.map((p): Diagnostic => ({ file, ...parsed.locate(p.segments), path: formatPath(p.segments), rule: p.rule, message: p.message, ...(p.hint ? { hint: p.hint } : {}) })),
  ];
  return { ok: diagnostics.length === 0, yaml, file, diagnostics, messages: diagnostics.map(formatDiagnostic) };
}
