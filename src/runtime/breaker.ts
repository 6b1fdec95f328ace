import { cappedExponential } from './backoff.js';

/**
 * The breaker's data, which exists only in the state it belongs to (the
 * machine's state value says the same; this keeps the data honest):
 * - `closed`: calls flow; counts consecutive retriable failures.
 * - `open`: calls are refused at once; knows when it opened, how many trips
 *   in a row led here and when the next probe may go out.
 * - `halfOpen`: exactly one probe is let through; remembers which call it is.
 */
export type BreakerData =
  | { readonly state: 'closed'; readonly consecutiveFailures: number }
  | { readonly state: 'open'; readonly openedAt: number; readonly trips: number; readonly nextProbeAt: number }
  | { readonly state: 'halfOpen'; readonly trips: number; readonly probeCallId: string | undefined };

/** `closed`, `open` or `halfOpen`. */
export type BreakerState = BreakerData['state'];

/** A fresh, closed breaker. */
export const closedBreaker: BreakerData = { state: 'closed', consecutiveFailures: 0 };

/**
 * Whether the breaker opens, given the consecutive retriable failures
 * counted including the one just seen.
 */
export function shouldTrip(consecutiveFailures: number, threshold: number): boolean {
  return consecutiveFailures >= threshold;
}

/** The cool-down's shape: a base that doubles per consecutive trip, capped. */
export interface CooldownPolicy {
  breakerCooldownMs: number;
  breakerMaxCooldownMs: number;
}

/**
 * Cool-down before the probe after the `trips`-th consecutive trip:
 * `base × 2^(trips−1)`, at most the cap (trips ≥ 1).
 */
export function cooldownFor(trips: number, policy: CooldownPolicy): number {
  return cappedExponential({ baseMs: policy.breakerCooldownMs, maxMs: policy.breakerMaxCooldownMs, attempt: trips });
}

/** Consecutive trips so far (0 while closed). */
export function tripsOf(breaker: BreakerData): number {
  return breaker.state === 'closed' ? 0 : breaker.trips;
}
