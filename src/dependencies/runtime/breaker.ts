import { cappedExponential } from '../../backoff.js';

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
 * What an owner hands the next one, and shows every other instance (KV
 * bucket `dependency-state`): the breaker, any 429 pause, and the token
 * debt a call left (an LLM charged more than it reserved). Times are
 * durations from when the record was written (`probeInMs`, `pausedForMs`),
 * never one machine's clock read by another; a reader counts them from when
 * it read the record, which can only make it wait longer.
 */
export type BreakerRecord = (
  | { readonly state: 'closed'; readonly consecutiveFailures: number }
  | { readonly state: 'open'; readonly trips: number; readonly probeInMs: number }
  | { readonly state: 'halfOpen'; readonly trips: number }
) & {
  /** Time left of a 429's `Retry-After` pause. */
  readonly pausedForMs?: number;
  /** Tokens owed per bucket (positive numbers): the next owner starts that far below empty. */
  readonly debt?: Readonly<Record<string, number>>;
};

/**
 * The breaker data a restored actor starts with, read at `at` (pure). A
 * half-open record starts half-open without a probe: the previous owner's
 * probe was aborted with its term, so this owner sends the one probe.
 */
export function breakerFromRecord(record: BreakerRecord, at: number): BreakerData {
  if (record.state === 'open') return { openedAt: at, trips: record.trips, nextProbeAt: at + Math.max(0, record.probeInMs) };
  if (record.state === 'halfOpen') return { trips: record.trips, probeCallId: undefined };
  return { consecutiveFailures: record.consecutiveFailures };
}

/** An owner's record as another instance received it: its durations count from `receivedAt` (that instance's clock). */
export interface ReceivedRecord {
  readonly record: BreakerRecord;
  /** Epoch ms this instance read it. */
  readonly receivedAt: number;
}

/** The epoch ms a record's pause ends, read at `at`; undefined when it has none left. */
export function pausedUntilOf(record: BreakerRecord | undefined, at: number): number | undefined {
  return record?.pausedForMs !== undefined && record.pausedForMs > 0 ? at + record.pausedForMs : undefined;
}

/** The epoch ms a record's probe may go out, read at `at` (only while open). */
export function nextProbeOfRecord(record: BreakerRecord | undefined, at: number): number | undefined {
  return record?.state === 'open' ? at + Math.max(0, record.probeInMs) : undefined;
}
