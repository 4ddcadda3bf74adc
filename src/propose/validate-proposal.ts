/**
 * Validates a proposed entry with the registry's own loader: rendered to YAML first (with
 * `toRegistryYaml`) so every problem is located at a line and column of the file a reviewer sees.
 */
import { formatDiagnostic, type Diagnostic } from "../registry/diagnostic.js";
import { parseRegistryFile } from "../registry/parse-registry-file.js";
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
  return { ok: parsed.diagnostics.length === 0, yaml, file, diagnostics: parsed.diagnostics, messages: parsed.diagnostics.map(formatDiagnostic) };
}
