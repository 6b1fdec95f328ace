import { cappedExponential } from './backoff.js';

/**
 * The breaker's states, which are the dependency machine's top-level states
 * (the chart is the only copy of which one it is in):
 * - `closed`: calls flow; counts consecutive retriable failures.
 * - `open`: calls are refused at once; knows when it opened, how many trips
 *   in a row led here and when the next probe may go out.
 * - `halfOpen`: exactly one probe is let through; remembers which call it is.
 */
export type BreakerState = 'closed' | 'open' | 'halfOpen';

/** What the breaker knows while `closed`. */
export interface ClosedBreaker {
  readonly consecutiveFailures: number;
}

/** What the breaker knows while `open`. */
export interface OpenBreaker {
  /** Epoch ms it opened. */
  readonly openedAt: number;
  /** Trips in a row, this one included. */
  readonly trips: number;
  /** Epoch ms the probe may go out. */
  readonly nextProbeAt: number;
}

/** What the breaker knows while `halfOpen`. */
export interface HalfOpenBreaker {
  /** Trips in a row that led here. */
  readonly trips: number;
  /** The probe's call id, once it has started. */
  readonly probeCallId: string | undefined;
}

/**
 * The data of the breaker's current state, and only of it (cockatiel's
 * `InnerState`, without a second copy of the state: the machine's state
 * value says which member this is).
 */
export type BreakerData = ClosedBreaker | OpenBreaker | HalfOpenBreaker;

/** A fresh, closed breaker. */
export const closedBreaker: ClosedBreaker = { consecutiveFailures: 0 };

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

/** Consecutive retriable failures (0 outside `closed`). */
export function failuresOf(breaker: BreakerData): number {
  return 'consecutiveFailures' in breaker ? breaker.consecutiveFailures : 0;
}

/** Consecutive trips so far (0 while closed). */
export function tripsOf(breaker: BreakerData): number {
  return 'trips' in breaker ? breaker.trips : 0;
}

/** Epoch ms the next probe may go out (only while open). */
export function nextProbeOf(breaker: BreakerData): number | undefined {
  return 'nextProbeAt' in breaker ? breaker.nextProbeAt : undefined;
}

/** The probe's call id (only while half-open, once it has started). */
export function probeOf(breaker: BreakerData): string | undefined {
  return 'probeCallId' in breaker ? breaker.probeCallId : undefined;
}

/**
 * A breaker as one owner hands it to the next (KV bucket `dependency-state`):
 * enough to start a fresh actor in the state the previous owner left, so an
 * open breaker stays open until its probe time and a 429 pause is honoured.
 */
export type BreakerRecord =
  | { readonly state: 'closed'; readonly consecutiveFailures: number; readonly pausedUntil?: number }
  | { readonly state: 'open'; readonly openedAt: number; readonly trips: number; readonly nextProbeAt: number; readonly pausedUntil?: number }
  | { readonly state: 'halfOpen'; readonly trips: number; readonly pausedUntil?: number };

/**
 * The breaker data a restored actor starts with (pure). A half-open record
 * starts half-open without a probe: the previous owner's probe was aborted
 * with its term, so this owner sends the one probe.
 */
export function breakerFromRecord(record: BreakerRecord): BreakerData {
  if (record.state === 'open') return { openedAt: record.openedAt, trips: record.trips, nextProbeAt: record.nextProbeAt };
  if (record.state === 'halfOpen') return { trips: record.trips, probeCallId: undefined };
  return { consecutiveFailures: record.consecutiveFailures };
}
