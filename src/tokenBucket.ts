/** A token bucket's shape: `rate` tokens per second, holding at most `burst`. */
export interface RateLimit {
  /** Tokens added per second (may be fractional: 0.5 is one every 2 s). */
  rate: number;
  /** Most tokens the bucket holds, i.e. the largest burst. */
  burst: number;
}

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

/** Float sums such as 0.1 * 3 must not leave a call waiting forever for 1e-16 tokens: smaller differences do not count. */
export const EPSILON = 1e-9;

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

