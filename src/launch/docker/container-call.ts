/**
 * One request on a container, under the server's time limit and the caller's cancellation. A
 * per-call container is killed when the call is stopped; a container that exits during the call
 * fails it with CONTAINER_CRASHED, naming the exit code and its last stderr lines (scrubbed).
 */
import { SdkError, SdkErrorCode } from "@modelcontextprotocol/client";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { callLimit } from "../call-limit.js";
import { LaunchError } from "../errors.js";
import type { UpstreamClient } from "../launcher.js";
import { scrubSecrets } from "../../secrets/secret-scrubber.js";
import type { RunningContainer } from "./container-runner.js";

export interface ContainerCallOptions {
  limitMs: number;
  /** A per-call container is killed (`kill`) when its call times out or is cancelled. */
  perCall: boolean;
  kill(why: string): void;
}

/** How long a closed connection waits for the container's exit code before reporting it unknown. */
const EXIT_CODE_WAIT_MS = 3_000;

export async function containerCall<T>(
  container: RunningContainer,
  options: ContainerCallOptions,
  fn: (client: UpstreamClient, signal: AbortSignal) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const prefix = container.server.prefix;
  const { limitMs, perCall } = options;
  const killed = perCall ? "; its container was killed" : "";
  const limit = callLimit({
    limitMs,
    signal,
    onStop: (why) => {
      if (perCall) options.kill(why === "timeout" ? "call timed out" : "call cancelled");
    },
    error: (why) =>
      why === "timeout"
        ? new LaunchError("TIMEOUT", `the call to ${prefix} timed out after ${limitMs / 1000} s${killed}`, "Raise router.limits.timeoutSeconds if the tool needs longer.")
        : new LaunchError("ABORTED", `the call to ${prefix} was cancelled${killed}`, "Nothing to do: the client cancelled the request."),
  });
  const crashed = container.exited.then((code) => {
    throw crashError(container, code);
  });
  crashed.catch(() => undefined);
  try {
    return await Promise.race([fn(container.client, limit.signal), crashed, limit.stopped]);
  } catch (error) {
    if (limit.error) throw limit.error;
    if (error instanceof LaunchError) throw error;
    // The connection closed under the call (SDK v1 client: 2025; v2: a 2026 verdict): the container went away.
    if ((error instanceof McpError && error.code === ErrorCode.ConnectionClosed) || (error instanceof SdkError && error.code === SdkErrorCode.ConnectionClosed)) {
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([container.exited, new Promise<null>((r) => (timer = setTimeout(() => r(null), EXIT_CODE_WAIT_MS)))]);
      clearTimeout(timer);
      throw crashError(container, code);
    }
    throw error;
  } finally {
    limit.dispose();
  }
}

function crashError(container: RunningContainer, code: number | null): LaunchError {
  const lines = container.transport.stderrLines(10).map((l) => scrubSecrets(l, container.secretValues));
  return new LaunchError(
    "CONTAINER_CRASHED",
    `the container of ${container.server.prefix} exited with code ${code ?? "unknown"} during the call${lines.length ? `; last stderr lines:\n${lines.join("\n")}` : " (no stderr)"}`,
    "The server crashed: check its stderr above, its arguments and env in the registry file, and its limits (memory, pids).",
    { data: { exitCode: code, stderr: lines } },
  );
}
