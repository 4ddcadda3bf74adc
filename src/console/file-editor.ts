/**
 * Adding or editing a registry file from the console: the draft is checked by the loader itself
 * (`loadFile`: YAML, schema, file rules, the operator policy, the secret store's grants, files it
 * refers to in the registry), plus the registry-wide rules against the other files (a prefix or
 * name taken), and comes back with located diagnostics and the privilege summary a reviewer reads.
 * Writing it is for a registry folder the daemon follows (which then applies it like any edit);
 * a git registry changes through pull requests, so the draft is downloaded instead.
 */
import { mkdtemp, readFile, realpath, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseDocument } from "yaml";
import type { RoutingTable } from "../gateway/routing-table.js";
import type { Diagnostic } from "../registry/diagnostic.js";
import { MAX_FILE_BYTES, loadFile } from "../registry/loader.js";
import { parseRegistryFile } from "../registry/parse-registry-file.js";
import type { OperatorPolicy } from "../registry/policy.js";
import type { PrivilegeSummary } from "../registry/privileges.js";
import { privilegeSummary } from "../registry/privileges.js";
import type { SecretGrants } from "../registry/store-lookups.js";
import type { SyncStatus } from "../sync/reconciler.js";
import { ConsoleError } from "./console-http.js";

export interface DraftChecks {
  policy: OperatorPolicy;
  grants: SecretGrants;
}

export interface DraftSources {
  registryRoot: string | undefined;
  checks: DraftChecks;
  status: SyncStatus;
  table: RoutingTable;
}

export interface DraftResult {
  valid: boolean;
  /** Where the file goes: `servers/<prefix>.yaml`. */
  file?: string;
  prefix?: string;
  diagnostics: Diagnostic[];
  /** What the server may do, as the proposal PR shows it; absent when the text is not a registry file yet. */
  privileges?: PrivilegeSummary;
}

const PREFIX = /^[a-z0-9][a-z0-9-]*$/;

export async function checkDraft(text: string, editing: string | undefined, sources: DraftSources): Promise<DraftResult> {
  // `editing` names a file: only a prefix (never a path) of a server the registry has.
  if (editing !== undefined && (!PREFIX.test(editing) || !sources.status.servers.some((s) => s.prefix === editing))) {
    throw new ConsoleError(400, "DRAFT_BAD_EDITING", `"${editing}" is not the prefix of a server in the registry`, "Edit a server from its page; to add one, leave `editing` out.");
  }
  if (Buffer.byteLength(text) > MAX_FILE_BYTES) {
    return { valid: false, diagnostics: [{ file: "draft", line: 1, column: 1, path: "", rule: "file.too-large", message: `is larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB`, hint: "A server file is a few kilobytes." }] };
  }
  // The prefix decides the file name; a draft without one yet is checked under the one it is edited as, or a placeholder.
  const quick = parseRegistryFile("draft.yaml", text);
  const declared = (quick.entry ?? quick.document)?.router?.prefix ?? declaredPrefix(text);
  const prefix = typeof declared === "string" && PREFIX.test(declared) ? declared : (editing ?? "new-server");
  const rel = `servers/${prefix}.yaml`;
  const root = sources.registryRoot ? await realpath(sources.registryRoot).catch(() => undefined) : undefined;
  const scratch = await mkdtemp(path.join(tmpdir(), "mcp-router-draft-"));
  try {
    const draftPath = path.join(scratch, `${prefix}.yaml`);
    await writeFile(draftPath, text, { mode: 0o600 });
    const result = await loadFile(draftPath, rel, rel, root ?? scratch, { policy: sources.checks.policy, grants: sources.checks.grants });
    const diagnostics = [...result.diagnostics];
    const entry = result.server?.entry ?? quick.document;
    if (result.server) {
      // The registry-wide rules: one file per prefix and per name.
      const locate = (segments: (string | number)[]) => parseRegistryFile(rel, text).locate(segments);
      if (result.server.prefix !== editing && sources.status.servers.some((s) => s.prefix === result.server!.prefix)) {
        diagnostics.push({ file: rel, ...locate(["router", "prefix"]), path: "router.prefix", rule: "prefix.duplicate", message: `the prefix "${result.server.prefix}" is taken by ${rel}`, hint: "Choose another prefix, or edit that server from its page." });
      }
      const sameName = [...sources.table.servers.values()].find((r) => r.server.entry.name === result.server!.entry.name && r.server.prefix !== editing);
      if (sameName) {
        diagnostics.push({ file: rel, ...locate(["name"]), path: "name", rule: "name.duplicate", message: `the name "${result.server.entry.name}" is already served by ${sameName.server.file}`, hint: "Each server is declared once; edit that file instead, or give this one its own name." });
      }
    }
    return {
      valid: diagnostics.length === 0,
      file: rel,
      prefix,
      diagnostics,
      ...(entry ? { privileges: privilegeSummary(entry, { policy: sources.checks.policy }) } : {}),
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** `router.prefix` of a draft that is not a valid file yet (so its errors still name the file it will be). */
function declaredPrefix(text: string): unknown {
  try {
    // getIn reads the node as it is: an alias is not expanded (it comes back as a node, not a string).
    return parseDocument(text).getIn(["router", "prefix"]);
  } catch {
    return undefined;
  }
}

/** Writes a valid draft into the registry folder, atomically; the daemon's watcher applies it. */
export async function writeDraft(text: string, editing: string | undefined, sources: DraftSources & { writable: boolean }): Promise<DraftResult> {
  if (!sources.writable || !sources.registryRoot) {
    throw new ConsoleError(409, "REGISTRY_NOT_WRITABLE", "this daemon follows a git registry: files change through pull requests", "Download the file and open a pull request with it (the validate workflow checks it again there).");
  }
  const checked = await checkDraft(text, editing, sources);
  if (!checked.valid) return checked;
  const target = path.join(sources.registryRoot, checked.file!);
  if (checked.prefix !== editing) {
    const exists = await readFile(target).then(
      () => true,
      () => false,
    );
    if (exists) throw new ConsoleError(409, "FILE_EXISTS", `${checked.file} already exists`, "Edit that server from its page, or choose another prefix.");
  }
  const temporary = path.join(path.dirname(target), `.${checked.prefix}.console-draft.tmp`);
  await writeFile(temporary, text, { mode: 0o644 });
  await rename(temporary, target);
  return checked;
}
