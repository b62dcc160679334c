import { redactText } from './log.js';

/**
 * Expected failures, each with a stable code, a message for the person at the box, and what to do.
 * Anything thrown that is not a FacegateError is a bug and is reported with its stack.
 * Codes are documented in docs/errors.md. Message and hint are redacted when made (a URL's
 * credentials masked), so that no path an error takes (CLI, log, audit, control answer) shows them.
 */
export class FacegateError extends Error {
  readonly code: `FG_ERR_${string}`;
  /** What the user should do about it, one sentence. */
  readonly hint?: string;
  override readonly name: string = 'FacegateError';
  constructor(code: `FG_ERR_${string}`, message: string, hint?: string, options?: { cause?: unknown }) {
    super(redactText(message), options);
    this.code = code;
    if (hint !== undefined) this.hint = redactText(hint);
  }

  /** One line for a terminal or a log: "FG_ERR_X: message (hint)". */
  toLine(): string {
    return `${this.code}: ${this.message}${this.hint ? ` — ${this.hint}` : ''}`;
  }
}

export function isFacegateError(e: unknown): e is FacegateError {
  return e instanceof FacegateError;
}

/** Process exit codes shared by the CLI and the daemon; the systemd unit names CONFIG in RestartPreventExitStatus. */
export const ExitCode = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  CONFIG: 78, // EX_CONFIG from sysexits.h
} as const;
