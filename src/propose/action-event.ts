/**
 * The Action's entry: which repository a GitHub event asks to propose. Understands
 * `workflow_dispatch` (input `repo-url`), `issues` (opened from the add-server template or
 * labelled `add-server`; the URL is read from the issue body) and `repository_dispatch`
 * (`client_payload.repo_url`).
 */
import { ProposeError } from "./errors.js";

export const ADD_SERVER_LABEL = "add-server";

export interface EventRequest {
  eventName: "workflow_dispatch" | "issues" | "repository_dispatch";
  url: string;
  /** The request issue, for the comment with the PR link. */
  issueNumber?: number;
  /** A monorepo subfolder given separately (issue form field or input). */
  subfolder?: string;
  /** Requested model or verification, when the event carries them. */
  model?: string;
  verify?: boolean;
  /** The repository the event happened in (`owner/name`), the default registry repo. */
  repository?: string;
}

type Payload = Record<string, unknown>;
const URL_RE = /https?:\/\/github\.com\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+(?:\/tree\/[^\s)>\]"'`]+)?/;

/** What the event asks for; a ProposeError says why an event is not a request. */
export function requestFromEvent(payload: Payload, eventName?: string): EventRequest {
  const name = eventName ?? (payload.issue ? "issues" : payload.client_payload ? "repository_dispatch" : payload.inputs ? "workflow_dispatch" : "");
  const repository = str((payload.repository as Payload | undefined)?.full_name);
  const withRepo = <T extends object>(r: T) => (repository ? { ...r, repository } : r);
  if (name === "workflow_dispatch") {
    const inputs = (payload.inputs ?? {}) as Payload;
    const url = str(inputs["repo-url"]) ?? str(inputs.repo_url) ?? str(inputs.url);
    if (!url) throw noUrl("workflow_dispatch input `repo-url` is empty");
    return withRepo({ eventName: name, url: url.trim(), ...opt("subfolder", str(inputs.subfolder)), ...opt("model", str(inputs.model)), ...optBool(inputs.verify) });
  }
  if (name === "repository_dispatch") {
    const p = (payload.client_payload ?? {}) as Payload;
    const url = str(p.repo_url) ?? str(p["repo-url"]) ?? str(p.repoUrl) ?? str(p.url);
    if (!url) throw noUrl("repository_dispatch client_payload has no `repo_url`");
    const issue = Number(p.issue_number ?? p.issue);
    return withRepo({ eventName: name, url: url.trim(), ...(Number.isInteger(issue) && issue > 0 ? { issueNumber: issue } : {}), ...opt("subfolder", str(p.subfolder)), ...opt("model", str(p.model)), ...optBool(p.verify) });
  }
  if (name === "issues") {
    const issue = (payload.issue ?? {}) as Payload;
    const labels = Array.isArray(issue.labels) ? issue.labels.map((l) => (typeof l === "string" ? l : str((l as Payload).name))) : [];
    const action = str(payload.action);
    const labelled = action === "labeled" ? str((payload.label as Payload | undefined)?.name) === ADD_SERVER_LABEL : labels.includes(ADD_SERVER_LABEL);
    if (!labelled) throw new ProposeError("PROPOSE_EVENT", `issue #${String(issue.number)} is not an add-server request (no \`${ADD_SERVER_LABEL}\` label)`, `Open the issue from the "Add an MCP server" template, or add the \`${ADD_SERVER_LABEL}\` label.`);
    const body = str(issue.body) ?? "";
    const fields = issueFormFields(body);
    const url = (fields["repository url"] ?? fields.repository ?? "").match(URL_RE)?.[0] ?? body.match(URL_RE)?.[0] ?? str(issue.title)?.match(URL_RE)?.[0];
    if (!url) throw noUrl(`issue #${String(issue.number)} has no https://github.com/... URL in its body`);
    const subfolder = fields.subfolder && !/^_?no response_?$/i.test(fields.subfolder) ? fields.subfolder : undefined;
    return withRepo({ eventName: name, url, issueNumber: Number(issue.number), ...opt("subfolder", subfolder) });
  }
  throw new ProposeError("PROPOSE_EVENT", `event "${name || "unknown"}" is not one propose handles`, "Trigger the workflow with workflow_dispatch, an add-server issue, or repository_dispatch.");
}

/** `### Label\n\nvalue` sections of an issue rendered from an issue form, keyed by lower-cased label. */
export function issueFormFields(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  const parts = body.split(/^###\s+/m).slice(1);
  for (const part of parts) {
    const nl = part.indexOf("\n");
    const label = (nl < 0 ? part : part.slice(0, nl)).trim().toLowerCase();
    out[label] = nl < 0 ? "" : part.slice(nl + 1).trim();
  }
  return out;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v.trim() ? v : undefined;
}

function opt<K extends string>(key: K, v: string | undefined): Partial<Record<K, string>> {
  return v ? ({ [key]: v.trim() } as Record<K, string>) : {};
}

function optBool(v: unknown): { verify?: boolean } {
  if (v === true || v === "true") return { verify: true };
  if (v === false || v === "false") return { verify: false };
  return {};
}

function noUrl(why: string): ProposeError {
  return new ProposeError("PROPOSE_EVENT", why, "Give the server's repository as https://github.com/<owner>/<repo> (or .../tree/<ref>/<subfolder>).");
}
