/** The shape of a capped exponential backoff. */
export interface CappedExponential {
  /** Delay of the first attempt, in ms. */
  baseMs: number;
  /** Largest delay, in ms. */
  maxMs: number;
  /** Which attempt in a row this is, counted from 1 (values below 1 count as 1). */
  attempt: number;
}

// 2^30 × any sensible base already exceeds every cap; it also keeps 2 ** n finite.
const MAX_EXPONENT = 30;

/**
 * The delay before attempt `attempt`: `baseMs × 2^(attempt−1)`, at most
 * `maxMs` (pure). Serves the breaker's cool-down, the supervisor's restart
 * delay and the edge processes' restart delay.
 */
export function cappedExponential({ baseMs, maxMs, attempt }: CappedExponential): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), MAX_EXPONENT);
  return Math.min(baseMs * 2 ** exponent, maxMs);
}
