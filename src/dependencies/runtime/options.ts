import type { RateLimit } from '../../tokenBucket.js';

/** Name of the bucket every call draws one token from. */
export const CALLS_BUCKET = 'calls';

/** How one dependency actor paces, bounds and protects its calls. */
export interface DependencyOptions {
  /**
   * Calls started per second, at most.
   * @default 1
   */
  rate?: number;
  /**
   * Calls that may start back to back after a quiet spell.
   * @default 1
   */
  burst?: number;
  /**
   * Calls in flight at once.
   * @default 1
   */
  concurrency?: number;
  /**
   * Time a call may take before it is aborted and fails with `DEP_TIMEOUT`.
   * @default 10000
   */
  timeoutMs?: number;
  /**
   * Calls that may wait in the mailbox (at least 1: a call passes through it
   * even when it can start at once); one more is refused with `DEP_OVERLOADED`.
   * @default 100
   */
  maxQueue?: number;
  /**
   * Consecutive retriable failures that open the breaker.
   * @default 5
   */
  breakerThreshold?: number;
  /**
   * Time the breaker stays open before it lets one probe through; doubles on
   * each consecutive trip.
   * @default 30000
   */
  breakerCooldownMs?: number;
  /**
   * Cap of the growing cool-down.
   * @default 300000
   */
  breakerMaxCooldownMs?: number;
  /**
   * Pause after a 429 that carries no usable `Retry-After`.
   * @default 1000
   */
  defaultRetryAfterMs?: number;
  /**
   * Further token buckets, by name (for example `tokens` for an LLM's
   * tokens-per-minute budget). A call draws `cost[name]` from each (0 if not
   * given); the `calls` bucket is always there and is sized by `rate`/`burst`.
   * @default {}
   */
  extraLimits?: Record<string, RateLimit>;
}

/** {@link DependencyOptions} with every default applied. */
export type ResolvedDependencyOptions = Required<DependencyOptions>;

/** The defaults of {@link DependencyOptions}, the one place they are written. */
export const DEFAULT_DEPENDENCY_OPTIONS = {
  rate: 1,
  burst: 1,
  concurrency: 1,
  timeoutMs: 10_000,
  maxQueue: 100,
  breakerThreshold: 5,
  breakerCooldownMs: 30_000,
  breakerMaxCooldownMs: 300_000,
  defaultRetryAfterMs: 1000,
} as const;

function check(field: string, value: number, ok: boolean, rule: string): number {
  if (!ok) throw new RangeError(`${field} must be ${rule}, got ${value}`);
  return value;
}

const positiveInt = (field: string, v: number) => check(field, v, Number.isSafeInteger(v) && v >= 1, 'an integer >= 1');
const positive = (field: string, v: number) => check(field, v, Number.isFinite(v) && v > 0, 'a number > 0');

/**
 * Applies the defaults (with `??`, so an explicit 0 is kept and checked).
 * @throws RangeError naming the field and the value it got.
 */
export function resolveDependencyOptions(options: DependencyOptions = {}): ResolvedDependencyOptions {
  const cooldown = positiveInt('breakerCooldownMs', options.breakerCooldownMs ?? DEFAULT_DEPENDENCY_OPTIONS.breakerCooldownMs);
  const maxCooldown = positiveInt('breakerMaxCooldownMs', options.breakerMaxCooldownMs ?? Math.max(DEFAULT_DEPENDENCY_OPTIONS.breakerMaxCooldownMs, cooldown));
  check('breakerMaxCooldownMs', maxCooldown, maxCooldown >= cooldown, `>= breakerCooldownMs (${cooldown})`);
  const extraLimits: Record<string, RateLimit> = {};
  for (const [name, limit] of Object.entries(options.extraLimits ?? {})) {
    if (name === CALLS_BUCKET) throw new RangeError(`extraLimits may not redefine '${CALLS_BUCKET}'`);
    extraLimits[name] = { rate: positive(`extraLimits.${name}.rate`, limit.rate), burst: positive(`extraLimits.${name}.burst`, limit.burst) };
  }
  return {
    rate: positive('rate', options.rate ?? DEFAULT_DEPENDENCY_OPTIONS.rate),
    burst: positiveInt('burst', options.burst ?? DEFAULT_DEPENDENCY_OPTIONS.burst),
    concurrency: positiveInt('concurrency', options.concurrency ?? DEFAULT_DEPENDENCY_OPTIONS.concurrency),
    timeoutMs: positiveInt('timeoutMs', options.timeoutMs ?? DEFAULT_DEPENDENCY_OPTIONS.timeoutMs),
    maxQueue: positiveInt('maxQueue', options.maxQueue ?? DEFAULT_DEPENDENCY_OPTIONS.maxQueue),
    breakerThreshold: positiveInt('breakerThreshold', options.breakerThreshold ?? DEFAULT_DEPENDENCY_OPTIONS.breakerThreshold),
    breakerCooldownMs: cooldown,
    breakerMaxCooldownMs: maxCooldown,
    defaultRetryAfterMs: positiveInt('defaultRetryAfterMs', options.defaultRetryAfterMs ?? DEFAULT_DEPENDENCY_OPTIONS.defaultRetryAfterMs),
    extraLimits,
  };
}

/** Every bucket of a dependency, `calls` first. */
export function limitsOf(options: ResolvedDependencyOptions): Record<string, RateLimit> {
  return { [CALLS_BUCKET]: { rate: options.rate, burst: options.burst }, ...options.extraLimits };
}
