/**
 * A VerifyFn backed by the daemon's Launcher: the proposal runs exactly as it would in production
 * (same container hardening), is initialized by the SDK client, and lists its tools.
 */
import { createHash, randomUUID } from "node:crypto";
import { toolList } from "../launch/call-tool.js";
import type { Launcher } from "../launch/launcher.js";
import type { RegistryFile, RegistryServer } from "../registry/types.js";
import { toToolInfos, type VerifyFn } from "./verify.js";

export function launcherVerify(launcher: Launcher, onProgress?: (message: string) => void): VerifyFn {
  return async (entry: RegistryFile, prefix: string) => {
    const server: RegistryServer = {
      prefix,
      name: entry.name,
      file: `servers/${prefix}.yaml`,
      hash: createHash("sha256").update(JSON.stringify(entry)).digest("hex"),
      entry,
    };
    const sessionId = `propose-verify-${randomUUID()}`;
    try {
      await launcher.prepare(server, onProgress);
      const lease = await launcher.acquire(server, { sessionId });
      try {
        const listed = await lease.run((client, signal) => toolList(client, undefined, { signal }));
        return { ok: true, tools: toToolInfos(listed.tools as unknown as Record<string, unknown>[]) };
      } finally {
        lease.release();
      }
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    } finally {
      await launcher.endSession(sessionId).catch(() => {});
      await launcher.retire(server).catch(() => {});
    }
  };
}
