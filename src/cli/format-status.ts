/**
 * `mcp-router status`: the daemon's `/status` for humans.
 */
import type { SyncStatus } from "../sync/reconciler.js";

export function formatStatus(status: SyncStatus, now: Date = new Date()): string {
  const ago = (iso: string | undefined) => (iso ? `${relative(now.getTime() - Date.parse(iso))} ago` : "never");
  const short = (rev: string | undefined) => (rev ? rev.slice(0, 12) : "-");
  const lines = [
    `source     ${status.source}`,
    `ready      ${status.settled ? "yes" : status.ready ? `serving; ${status.servers.filter((s) => s.reason === "Preparing").length} server(s) still on their first prepare` : "no (no table applied yet)"}`,
    `applied    ${short(status.lastAppliedRevision)}  ${ago(status.lastAppliedAt)}`,
    `attempted  ${short(status.lastAttemptedRevision)}  ${ago(status.lastAttemptAt)}`,
  ];
  if (status.lastError) {
    lines.push(`last error ${status.lastError.reason}: ${status.lastError.message} (${ago(status.lastError.at)})`);
  }
  lines.push("", "servers");
  const width = Math.max(6, ...status.servers.map((s) => s.prefix.length));
  for (const s of status.servers) {
    const state = s.reason === "Applied" ? "ok" : s.stale ? "STALE" : s.reason === "Disabled" ? "off" : "FAILED";
    lines.push(`  ${s.prefix.padEnd(width)}  ${state.padEnd(6)}  ${s.reason.padEnd(16)} ${short(s.appliedRevision)}  since ${ago(s.since)}`);
    if (s.reason !== "Applied" && s.reason !== "Disabled") {
      for (const line of s.message.split("\n")) lines.push(`      ${line}`);
    }
  }
  if (status.servers.length === 0) lines.push("  (none)");
  lines.push("", "access");
  const access = status.access;
  if (!access) lines.push("  no access.yaml: every authenticated caller may use every server");
  else {
    const state = access.reason === "Applied" ? "ok" : access.stale ? "STALE (the last good version serves)" : "FAILED (nothing is granted)";
    lines.push(`  ${access.file}  ${state}  since ${ago(access.since)}`);
    for (const line of access.message.split("\n")) lines.push(`      ${line}`);
  }
  return lines.join("\n") + "\n";
}

function relative(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s}s`;
  if (s < 90 * 60) return `${Math.round(s / 60)}m`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}
