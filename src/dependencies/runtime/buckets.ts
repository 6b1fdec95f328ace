import { charge, createBucket, EPSILON, msUntil, refill, take, type RateLimit, type TokenBucket } from '../../tokenBucket.js';
import { CALLS_BUCKET } from './options.js';

/** Several named buckets (a dependency's `calls` and any extra ones); a call must find enough tokens in each. */
export type Buckets = Readonly<Record<string, TokenBucket>>;

/** What a call draws from each bucket, by name. */
export type CallCost = Readonly<Record<string, number>>;

/** What a call costs in bucket `name`: 1 call in `calls` unless said otherwise, 0 elsewhere. */
export function costIn(cost: CallCost | undefined, name: string): number {
  return cost?.[name] ?? (name === CALLS_BUCKET ? 1 : 0);
}

/** Full buckets for the given limits. */
export function createBuckets(limits: Record<string, RateLimit>, now: number): Buckets {
  return Object.fromEntries(Object.entries(limits).map(([name, limit]) => [name, createBucket(limit, now)]));
}

/**
 * Empty buckets for the given limits, each `debt[name]` tokens below empty:
 * what an actor restored from another owner (or after a crash) starts with,
 * since it cannot know what the previous one spent just before it stopped.
 */
export function emptyBuckets(limits: Record<string, RateLimit>, now: number, debt: CallCost = {}): Buckets {
  return Object.fromEntries(Object.entries(limits).map(([name, limit]) => [name, { ...createBucket(limit, now), tokens: -Math.max(0, debt[name] ?? 0) }]));
}

/** Tokens owed per bucket at `now` (buckets below empty after refilling); undefined when none is. */
export function debtOf(buckets: Buckets, now: number): CallCost | undefined {
  const owed = Object.entries(buckets)
    .map(([name, b]) => [name, -refill(b, now).tokens] as const)
    .filter(([, tokens]) => tokens > EPSILON);
  return owed.length > 0 ? Object.fromEntries(owed) : undefined;
}

/** Milliseconds until every bucket can pay for the call (0 if all can now). */
export function msUntilAll(buckets: Buckets, cost: CallCost | undefined, now: number): number {
  return Math.max(0, ...Object.entries(buckets).map(([name, b]) => msUntil(b, costIn(cost, name), now)));
}

/** The buckets after the call has paid in each. */
export function takeAll(buckets: Buckets, cost: CallCost | undefined, now: number): Buckets {
  return Object.fromEntries(Object.entries(buckets).map(([name, b]) => [name, take(b, costIn(cost, name), now)]));
}

/** The buckets with corrections applied (unknown bucket names are ignored). */
export function chargeAll(buckets: Buckets, charges: CallCost): Buckets {
  return Object.fromEntries(Object.entries(buckets).map(([name, b]) => [name, charges[name] ? charge(b, charges[name]) : b]));
}
