/**
 * Verification of a proposal: launch the entry, initialize, list its tools. Injected as a
 * function so propose does not depend on Docker; `launcher-verify.ts` builds one from a Launcher.
 */
import type { RegistryFile, ToolInfo } from "../registry/types.js";

export interface VerifyResult {
  ok: boolean;
  tools?: ToolInfo[];
  /** What went wrong, for Claude and for the PR (secrets already scrubbed by the launcher). */
  error?: string;
}

export type VerifyFn = (entry: RegistryFile, prefix: string) => Promise<VerifyResult>;

/** Tools as the registry records them: name, title, description and schemas only. */
export function toToolInfos(tools: readonly Record<string, unknown>[]): ToolInfo[] {
  return tools.map((t) => ({
    name: String(t.name),
    ...(typeof t.title === "string" ? { title: t.title } : {}),
    ...(typeof t.description === "string" ? { description: t.description } : {}),
    inputSchema: (t.inputSchema && typeof t.inputSchema === "object" ? t.inputSchema : { type: "object" }) as Record<string, unknown>,
    ...(t.outputSchema && typeof t.outputSchema === "object" ? { outputSchema: t.outputSchema as Record<string, unknown> } : {}),
    ...(t.annotations && typeof t.annotations === "object" ? { annotations: t.annotations as Record<string, unknown> } : {}),
  })) as ToolInfo[];
}
