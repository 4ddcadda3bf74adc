/**
 * Calls of 2026-07-28 clients that an upstream pauses to ask the client something. An upstream
 * spoken to in the 2025 era asks mid-call (`sampling/createMessage`, `elicitation/create`); the
 * 2026 revision has no server-to-client requests, so the gateway answers the client
 * `input_required` with the upstream's questions (`inputRequests`) and a sealed `requestState`,
 * keeps the call (and its container) waiting, and resumes it when the client retries with
 * `inputResponses` and that state. Rounds repeat until the call completes.
 *
 * The state is tamper-evident (HMAC-SHA256 with a key that never leaves the process), bound to the
 * principal, the method and its target, and expires; a paused call nobody resumes within the
 * round timeout ends (its container is removed), and a retry that cannot be resumed gets a clear
 * error, never a hang.
 *
 * An upstream spoken to in the 2026 era asks by answering `input_required` itself: nothing waits
 * here. Its questions reach the client as they are (its keys), and its own `requestState` is
 * sealed the same way (`sealUpstream`), so the retry is recognised, bound to the same principal,
 * method and target, and goes on to that upstream with the state it issued (`openUpstream`).
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";

/** How long a paused call waits for the client's retry (default). */
export const ROUND_TIMEOUT_MS = 5 * 60_000;
/** Paused calls held at once (default); beyond it a new pause ends its call at once. */
export const MAX_PAUSED = 1000;

/** What a round is bound to: who asked, which method, which tool / prompt / resource. */
export interface RoundBinding {
  principal: string;
  method: string;
  target: string;
}

/** A request the upstream sent the client, as `inputRequests` carries it. */
export interface InputRequest {
  method: string;
  params?: Record<string, unknown>;
}

export type RoundOutcome =
  | { kind: "complete"; result: unknown }
  | { kind: "input_required"; inputRequests: Record<string, InputRequest>; requestState: string };

/** How the running call asks the client (the upstream's sampling / elicitation request). */
export type Ask = (request: InputRequest) => Promise<unknown>;

interface Question {
  request: InputRequest;
  answered: boolean;
  resolve(response: unknown): void;
  reject(error: Error): void;
}

interface Paused {
  id: string;
  binding: RoundBinding;
  questions: Map<string, Question>;
  settled: Promise<{ ok: true; result: unknown } | { ok: false; error: unknown }>;
  /** Resolves when a new question arrives; replaced after each. */
  asked: Promise<void>;
  wake(): void;
  abort: AbortController;
  timer?: NodeJS.Timeout;
}

export class InputRounds {
  readonly #key = randomBytes(32);
  readonly #paused = new Map<string, Paused>();

  constructor(private readonly options: { roundTimeoutMs?: number; maxPaused?: number } = {}) {}

  get pausedCount(): number {
    return this.#paused.size;
  }

  /**
   * Runs a call whose upstream may ask the client things. `signal` is the client's request: while
   * the call runs on its behalf, its end is the call's cancel.
   */
  async start(binding: RoundBinding, run: (ask: Ask, signal: AbortSignal) => Promise<unknown>, signal: AbortSignal): Promise<RoundOutcome> {
    const abort = new AbortController();
    let seq = 0;
    const paused: Paused = { id: randomUUID(), binding, questions: new Map(), settled: undefined as never, asked: undefined as never, wake: () => undefined, abort };
    const rearm = (): void => {
      paused.asked = new Promise<void>((resolve) => {
        paused.wake = resolve;
      });
    };
    rearm();
    const ask: Ask = (request) =>
      new Promise((resolve, reject) => {
        paused.questions.set(`input-${++seq}`, { request, answered: false, resolve, reject });
        const wake = paused.wake;
        rearm();
        wake();
      });
    paused.settled = run(ask, abort.signal).then(
      (result) => ({ ok: true as const, result }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    return this.#next(paused, signal);
  }

  /** Resumes the paused call `requestState` names with the client's answers. */
  async resume(binding: RoundBinding, requestState: string, inputResponses: Record<string, unknown>, signal: AbortSignal): Promise<RoundOutcome> {
    const id = this.#open(requestState, binding);
    const paused = this.#paused.get(id);
    if (!paused) {
      throw new McpError(ErrorCode.InvalidParams, "requestState names a call that is no longer waiting (it was answered already, or it timed out): send the request again without requestState and inputResponses");
    }
    clearTimeout(paused.timer);
    this.#paused.delete(id);
    for (const [key, response] of Object.entries(inputResponses)) {
      const question = paused.questions.get(key);
      if (!question || question.answered) continue;
      question.answered = true;
      question.resolve(response);
    }
    return this.#next(paused, signal);
  }

  /** Wraps a modern upstream's own `requestState` (or its absence) for the client. */
  sealUpstream(binding: RoundBinding, upstreamState: string | undefined): string {
    const timeoutMs = this.options.roundTimeoutMs ?? ROUND_TIMEOUT_MS;
    return this.#seal("", binding, timeoutMs, { upstream: upstreamState ?? null });
  }

  /**
   * The upstream's own state inside a `requestState` `sealUpstream` made (`undefined` state: the
   * upstream gave none); `undefined` for a state of a call paused here (`resume` takes those).
   * Throws for a state that is not ours, altered, expired or bound to another request.
   */
  openUpstream(binding: RoundBinding, requestState: string): { upstreamState: string | undefined } | undefined {
    const claims = this.#claims(requestState, binding);
    if (claims.upstream === undefined) return undefined;
    return { upstreamState: claims.upstream ?? undefined };
  }

  /** Ends every paused call (shutdown). */
  close(): void {
    for (const paused of this.#paused.values()) this.#end(paused, new Error("the gateway is shutting down"));
    this.#paused.clear();
  }

  /** Waits for the call to complete or to ask something the client has not answered yet. */
  async #next(paused: Paused, signal: AbortSignal): Promise<RoundOutcome> {
    const onAbort = (): void => paused.abort.abort(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      for (;;) {
        const open = [...paused.questions.entries()].filter(([, q]) => !q.answered);
        if (open.length === 0) {
          const next = await Promise.race([paused.settled, paused.asked.then(() => undefined)]);
          if (next === undefined) {
            // Let questions sent together arrive together.
            await new Promise((resolve) => setImmediate(resolve));
            continue;
          }
          if (next.ok) return { kind: "complete", result: next.result };
          throw next.error;
        }
        if (this.#paused.size >= (this.options.maxPaused ?? MAX_PAUSED)) {
          const error = new McpError(ErrorCode.InternalError, "too many calls are waiting for client input; try again later");
          this.#end(paused, error);
          throw error;
        }
        this.#paused.set(paused.id, paused);
        const timeoutMs = this.options.roundTimeoutMs ?? ROUND_TIMEOUT_MS;
        paused.timer = setTimeout(() => {
          this.#paused.delete(paused.id);
          this.#end(paused, new McpError(ErrorCode.RequestTimeout, `the client did not answer within ${Math.round(timeoutMs / 1000)} s; the call ended`));
        }, timeoutMs);
        paused.timer.unref();
        return { kind: "input_required", inputRequests: Object.fromEntries(open.map(([key, q]) => [key, q.request])), requestState: this.#seal(paused.id, paused.binding, timeoutMs) };
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  #end(paused: Paused, error: Error): void {
    clearTimeout(paused.timer);
    for (const question of paused.questions.values()) if (!question.answered) question.reject(error);
    paused.abort.abort(error);
  }

  #seal(id: string, binding: RoundBinding, ttlMs: number, extra: { upstream?: string | null } = {}): string {
    const payload = Buffer.from(JSON.stringify({ id, ...binding, exp: Date.now() + ttlMs, ...extra })).toString("base64url");
    return `${payload}.${this.#mac(payload)}`;
  }

  /** The paused call's id, when the state is ours, intact, unexpired and bound to this request. */
  #open(state: string, binding: RoundBinding): string {
    return this.#claims(state, binding).id;
  }

  /** What a state says, when it is ours, intact, unexpired and bound to this request. */
  #claims(state: string, binding: RoundBinding): RoundBinding & { id: string; exp: number; upstream?: string | null } {
    const refuse = (why: string): never => {
      throw new McpError(ErrorCode.InvalidParams, `requestState refused: ${why}; send the request again without requestState and inputResponses`);
    };
    const [payload, mac] = state.split(".");
    if (!payload || !mac) refuse("it is not one the gateway issued");
    const expected = Buffer.from(this.#mac(payload as string));
    const given = Buffer.from(mac as string);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) refuse("it was altered or is not one the gateway issued");
    let claims: RoundBinding & { id: string; exp: number; upstream?: string | null } = { id: "", exp: 0, principal: "", method: "", target: "" };
    try {
      claims = JSON.parse(Buffer.from(payload as string, "base64url").toString("utf8")) as typeof claims;
    } catch {
      refuse("it is not one the gateway issued");
    }
    if (claims.exp < Date.now()) refuse("it expired");
    if (claims.principal !== binding.principal || claims.method !== binding.method || claims.target !== binding.target) refuse("it belongs to another request");
    return claims;
  }

  #mac(payload: string): string {
    return createHmac("sha256", this.#key).update(payload).digest("base64url");
  }
}
