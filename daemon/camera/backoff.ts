/** Reconnect delays: exponential, capped, with jitter so that cameras behind one switch do not retry in step. */
export interface BackoffPolicy {
  /** First delay. */
  baseMs: number;
  /** Cap (backoff_max_s). */
  maxMs: number;
}

/**
 * Delay before attempt `attempt` (1 = the first retry): base·2^(attempt-1), capped, then "equal
 * jitter": a uniform pick in [d/2, d]. `random` is injected so that tests are exact.
 */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/** Streaming this long without trouble resets the attempt count, so that one drop a day starts again at the base delay. */
export function healthyPeriodMs(policy: BackoffPolicy): number {
  return Math.max(30_000, policy.maxMs);
}
