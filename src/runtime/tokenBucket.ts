import { CALLS_BUCKET, type RateLimit } from './options.js';

/**
 * A token bucket as plain data: refilled from the clock only when it is
 * evaluated (no timers, no shared state). Tokens may go below zero when a
 * call is charged more afterwards (an LLM's real token usage): that debt is
 * paid back by waiting.
 */
export interface TokenBucket {
  /** Tokens added per second. */
  readonly rate: number;
  /** Most tokens the bucket holds. */
  readonly burst: number;
  /** Tokens at `updatedAt`. */
  readonly tokens: number;
  /** Epoch ms of the last refill. */
  readonly updatedAt: number;
}

/** Several named buckets; a call must find enough tokens in each. */
export type Buckets = Readonly<Record<string, TokenBucket>>;

/** What a call draws from each bucket, by name. */
export type CallCost = Readonly<Record<string, number>>;

// Float sums such as 0.1 * 3 must not leave a call waiting forever for 1e-16 tokens.
const EPSILON = 1e-9;

/** A full bucket. */
export function createBucket(limit: RateLimit, now: number): TokenBucket {
  return { rate: limit.rate, burst: limit.burst, tokens: limit.burst, updatedAt: now };
}

/** The bucket with the tokens earned since `updatedAt` added. */
export function refill(bucket: TokenBucket, now: number): TokenBucket {
  if (now <= bucket.updatedAt) return now === bucket.updatedAt ? bucket : { ...bucket, updatedAt: now };
  const tokens = Math.min(bucket.burst, bucket.tokens + ((now - bucket.updatedAt) * bucket.rate) / 1000);
  return { ...bucket, tokens, updatedAt: now };
}

// A cost above the burst could never fit; it may start once the bucket is full.
const needed = (bucket: TokenBucket, cost: number) => Math.min(cost, bucket.burst);

/** Whether `cost` tokens are there now. */
export function canTake(bucket: TokenBucket, cost: number, now: number): boolean {
  return cost <= 0 || refill(bucket, now).tokens + EPSILON >= needed(bucket, cost);
}

/** The bucket after `cost` tokens are taken (call {@link canTake} first). */
export function take(bucket: TokenBucket, cost: number, now: number): TokenBucket {
  const b = refill(bucket, now);
  return cost === 0 ? b : { ...b, tokens: b.tokens - cost };
}

/** Milliseconds until `cost` tokens are there (0 if they are now). */
export function msUntil(bucket: TokenBucket, cost: number, now: number): number {
  if (canTake(bucket, cost, now)) return 0;
  const missing = needed(bucket, cost) - refill(bucket, now).tokens;
  return Math.max(1, Math.ceil((missing * 1000) / bucket.rate));
}

/** The bucket charged `delta` more tokens (negative refunds, never above `burst`). */
export function charge(bucket: TokenBucket, delta: number): TokenBucket {
  return { ...bucket, tokens: Math.min(bucket.burst, bucket.tokens - delta) };
}

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
