/**
 * What a person at a terminal reads while `serve` starts: one summary line when the daemon has
 * settled (`ready: 5 live, 6 failed (run mcp-router status)`), one line per server that failed
 * with what to do, and afterwards one line whenever a server goes live or fails. JSON logs are
 * for machines; this is for the person who just typed `npm start`.
 */
import type { ServerCondition, SyncStatus } from "../sync/reconciler.js";

export interface ReadyReporter {
  /** Feed every status the reconciler emits. */
  observe(status: SyncStatus): void;
}

/**
 * Splits an error message of ours ("what happened (CODE). What to do.", possibly followed by more
 * lines such as build output) into a one-line `what` and the `todo`, without the MCP error prefix.
 */
export function splitHint(message: string): { what: string; todo?: string } {
  const text = message.replace(/^MCP error -?\d+: /, "");
  const first = (text.split("\n")[0] ?? "").trim();
  const match = /\(([A-Z][A-Z_]+)\)\. ([^\n]+)$/.exec(text);
  // A located diagnostic (`file:line:col  path: message` + `    hint: ...`): its hint is the todo.
  const hint = /\n\s+hint: ([^\n]+)/.exec(text)?.[1];
  if (!match) return hint ? { what: first, todo: hint } : { what: first };
  const what = first.includes(`(${match[1]!})`) ? first.slice(0, first.indexOf(`(${match[1]!})`)).trim() : first;
  return { what: `${what} (${match[1]!})`, todo: match[2]! };
}

const LIVE = new Set<ServerCondition["reason"]>(["Applied"]);
const FAILED = new Set<ServerCondition["reason"]>(["ValidationFailed", "PrepareFailed"]);

export function readyReporter(write: (line: string) => void, statusCommand = "mcp-router status"): ReadyReporter {
  let settled = false;
  const last = new Map<string, string>();
  const describe = (c: ServerCondition): string[] => {
    const { what, todo } = splitHint(c.message);
    const lines = [`  ✗ ${c.prefix}: ${c.reason}${c.stale ? " (an older version keeps serving)" : ""}: ${what}`];
    if (todo) lines.push(`      → ${todo}`);
    return lines;
  };
  return {
    observe(status) {
      if (!status.settled) return;
      const key = (c: ServerCondition): string => `${c.reason}:${c.hash ?? ""}:${c.message}`;
      if (!settled) {
        settled = true;
        const live = status.servers.filter((c) => LIVE.has(c.reason));
        const failed = status.servers.filter((c) => FAILED.has(c.reason));
        const preparing = status.servers.filter((c) => c.reason === "Preparing");
        const parts = [`${live.length} live`, `${failed.length} failed`, ...(preparing.length ? [`${preparing.length} still preparing`] : [])];
        write(`ready: ${parts.join(", ")}${failed.length || preparing.length ? ` (run ${statusCommand})` : ""}`);
        for (const c of failed) for (const line of describe(c)) write(line);
        for (const c of status.servers) last.set(c.prefix, key(c));
        return;
      }
      for (const c of status.servers) {
        const k = key(c);
        if (last.get(c.prefix) === k) continue;
        const before = last.get(c.prefix);
        last.set(c.prefix, k);
        if (LIVE.has(c.reason)) write(`  ✓ ${c.prefix} is live (${c.message})`);
        else if (FAILED.has(c.reason) && before?.split(":")[0] !== c.reason) for (const line of describe(c)) write(line);
      }
      for (const prefix of [...last.keys()]) {
        if (!status.servers.some((c) => c.prefix === prefix)) {
          last.delete(prefix);
          write(`  - ${prefix} was removed from the registry`);
        }
      }
    },
  };
}
