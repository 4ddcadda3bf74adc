/**
 * Where the registry comes from. A source brings a working tree to its newest revision and
 * says when it may have changed; the reconciler does the rest.
 */
export interface SourceRevision {
  /** A git commit id, or for a plain directory a digest of its server files. */
  revision: string;
  /** The folder to load (the registry root, holding `servers/`). */
  dir: string;
}

export interface RegistrySource {
  /** For logs and `/status`, e.g. `git https://github.com/acme/registry (main)`. */
  readonly description: string;
  /** Poll period for sources that must be asked (git); undefined for sources that tell (a watched directory). */
  readonly pollIntervalMs?: number;
  /** Brings the working tree to the newest revision. Throws a SyncError when it cannot. */
  sync(): Promise<SourceRevision>;
  /** Calls `onChange` whenever the source may have changed. Returns a function that stops watching. */
  watch(onChange: (reason: string) => void): () => Promise<void>;
}

export type SyncErrorCode = "FETCH_FAILED" | "READ_FAILED";

export class SyncError extends Error {
  constructor(
    readonly code: SyncErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "SyncError";
  }
}
