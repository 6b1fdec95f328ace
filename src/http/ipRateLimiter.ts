import { createBucket, msUntil, take, type TokenBucket } from '../tokenBucket.js';

/** Options of {@link IpRateLimiter}. */
export interface IpRateLimiterOptions {
  /** Requests per second per client; 0 lets everything through. */
  rate: number;
  /** Requests a client may send back to back. */
  burst: number;
  /**
   * Most clients tracked at once; beyond it the least recently seen one is
   * forgotten (it starts again with a full bucket).
   * @default 100000
   */
  maxClients?: number;
}

/** What {@link IpRateLimiter.take} decided. */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

const ALLOWED: RateDecision = { allowed: true };

/**
 * One token bucket per client IP, in bounded memory: a Map kept in
 * least-recently-seen order, trimmed to `maxClients`, and swept of buckets
 * that have refilled (a full bucket is the same as no bucket).
 */
export class IpRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly maxClients: number;
  private lastSweep = 0;

  constructor(private readonly o: IpRateLimiterOptions) {
    this.maxClients = o.maxClients ?? 100_000;
  }

  /** Whether the limit is on. */
  get enabled(): boolean {
    return this.o.rate > 0;
  }

  /** Clients tracked now. */
  get size(): number {
    return this.buckets.size;
  }

  /** Takes one token from `ip`'s bucket, or says how long until one is there. */
  take(ip: string, now: number): RateDecision {
    if (!this.enabled) return ALLOWED;
    const limit = { rate: this.o.rate, burst: this.o.burst };
    const known = this.buckets.get(ip);
    const bucket = known ?? createBucket(limit, now);
    const wait = msUntil(bucket, 1, now);
    if (known) this.buckets.delete(ip);
    if (wait > 0) {
      this.buckets.set(ip, bucket);
      return { allowed: false, retryAfterMs: wait };
    }
    this.buckets.set(ip, take(bucket, 1, now));
    if (this.buckets.size > this.maxClients) this.buckets.delete(this.buckets.keys().next().value!);
    this.sweep(now);
    return ALLOWED;
  }

  /** At most once per second, forgets the least recently seen clients whose buckets are full again. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 1000) return;
    this.lastSweep = now;
    const fullAfterMs = (this.o.burst / this.o.rate) * 1000;
    // Oldest first: stop at the first client seen too recently to have refilled.
    for (const [ip, b] of this.buckets) {
      if (now - b.updatedAt < fullAfterMs) break;
      this.buckets.delete(ip);
    }
  }
}
