/**
 * Errors of the propose job: each carries a stable code and says how to fix the problem.
 */
export type ProposeErrorCode =
  | "PROPOSE_BAD_SOURCE"
  | "PROPOSE_SOURCE_NOT_FOUND"
  | "PROPOSE_GITHUB"
  | "PROPOSE_NOTHING_TO_RUN"
  | "PROPOSE_INVALID"
  | "PROPOSE_LLM"
  | "PROPOSE_NO_REGISTRY_REPO"
  | "PROPOSE_EVENT";

export class ProposeError extends Error {
  constructor(
    readonly code: ProposeErrorCode,
    message: string,
    readonly hint: string,
  ) {
    super(message);
    this.name = "ProposeError";
  }
}
