/**
 * Typed errors. Every failure that reaches the user is a BottleError with a stable string code
 * (callers and tests branch on the code, never on the message), a message that says what went
 * wrong, and a hint that says what to do next. Messages never carry secret values.
 */

/** Stable error codes. Adding one is fine; renaming one is a breaking change. */
export type ErrorCode =
  | "usage"
  | "manifest_not_found"
  | "manifest_unreadable"
  | "manifest_syntax"
  | "manifest_invalid"
  | "agent_unknown"
  | "file_exists"
  | "engine_unreachable"
  | "runtime_unavailable"
  | "image_build_failed"
  | "launch_failed"
  | "cleanup_incomplete"
  | "bottle_unknown"
  | "bottle_not_running"
  | "token_missing"
  | "doctor_failed"
  | "state_invalid"
  | "state_busy"
  | "request_limit"
  | "request_unknown"
  | "request_changed"
  | "request_decided"
  | "image_change_refused";

/** Process exit codes: 2 for bad input the user can fix in a file or a flag, 1 otherwise. */
const EXIT_CODES: Record<ErrorCode, number> = {
  usage: 2,
  manifest_not_found: 2,
  manifest_unreadable: 2,
  manifest_syntax: 2,
  manifest_invalid: 2,
  agent_unknown: 2,
  file_exists: 2,
  engine_unreachable: 1,
  runtime_unavailable: 1,
  image_build_failed: 1,
  launch_failed: 1,
  cleanup_incomplete: 1,
  bottle_unknown: 2,
  bottle_not_running: 1,
  token_missing: 2,
  doctor_failed: 1,
  state_invalid: 2,
  state_busy: 1,
  request_limit: 1,
  request_unknown: 2,
  request_changed: 1,
  request_decided: 2,
  image_change_refused: 2,
};

export class BottleError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  /** Extra lines shown under the message (for example one line per manifest problem). */
  readonly details: readonly string[];

  constructor(
    code: ErrorCode,
    message: string,
    options: { hint?: string; details?: readonly string[]; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "BottleError";
    this.code = code;
    this.hint = options.hint;
    this.details = options.details ?? [];
  }

  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}

export function isBottleError(error: unknown): error is BottleError {
  return error instanceof BottleError;
}
