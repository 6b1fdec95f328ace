import { ConfigError, intVar, numberVar, urlVar, type Env } from '../config/parse.js';
import { DEFAULT_DEPENDENCY_OPTIONS } from './runtime/options.js';

/** Pacing, bounds and breaker of one dependency (`<DEP>_*` variables). */
export interface DependencyLimits {
  /** `<DEP>_RATE`: calls started per second. */
  rate: number;
  /** `<DEP>_BURST`: calls that may start back to back. */
  burst: number;
  /** `<DEP>_CONCURRENCY`: calls in flight at once. */
  concurrency: number;
  /** `<DEP>_TIMEOUT_MS`: a call is aborted after this long. */
  timeoutMs: number;
  /** `<DEP>_MAX_QUEUE`: calls that may wait; one more gets `DEP_OVERLOADED`. */
  maxQueue: number;
  /** `<DEP>_BREAKER_THRESHOLD`: consecutive retriable failures that open the breaker. */
  breakerThreshold: number;
  /** `<DEP>_BREAKER_COOLDOWN_MS`: first cool-down before a probe; doubles per trip in a row. */
  breakerCooldownMs: number;
  /** `<DEP>_BREAKER_MAX_COOLDOWN_MS`: cap of that growing cool-down. */
  breakerMaxCooldownMs: number;
}

/** A dependency reached over HTTP. */
export interface HttpDependencySettings extends DependencyLimits {
  /** `<DEP>_URL`: base URL, without a trailing slash. */
  url: string;
}

/** A dependency's defaults: the runtime's, with what differs for it (docs/configuration.md explains each). */
export type LimitDefaults = Partial<DependencyLimits> & Pick<DependencyLimits, 'rate' | 'timeoutMs'>;

/** The runtime's defaults under `overrides`: every field of {@link DependencyLimits}. */
export function limitDefaults(overrides: LimitDefaults): DependencyLimits {
  const { burst, concurrency, maxQueue, breakerThreshold, breakerCooldownMs, breakerMaxCooldownMs } = DEFAULT_DEPENDENCY_OPTIONS;
  return { burst, concurrency, maxQueue, breakerThreshold, breakerCooldownMs, breakerMaxCooldownMs, ...overrides };
}

const HOUR_MS = 3_600_000;

/**
 * Reads `<prefix>_RATE`, `_BURST`, `_CONCURRENCY`, `_TIMEOUT_MS`, `_MAX_QUEUE`
 * and the breaker's variables over `defaults`.
 * @throws ConfigError naming the first variable with a bad value.
 */
export function readLimits(env: Env, prefix: string, defaults: DependencyLimits): DependencyLimits {
  const d = defaults;
  const cooldown = intVar(env, `${prefix}_BREAKER_COOLDOWN_MS`, d.breakerCooldownMs, { min: 1, max: 24 * HOUR_MS });
  const maxCooldown = intVar(env, `${prefix}_BREAKER_MAX_COOLDOWN_MS`, Math.max(d.breakerMaxCooldownMs, cooldown), { min: 1, max: 24 * HOUR_MS });
  if (maxCooldown < cooldown) {
    throw new ConfigError(`${prefix}_BREAKER_MAX_COOLDOWN_MS`, `must be at least ${prefix}_BREAKER_COOLDOWN_MS (${cooldown}), got ${maxCooldown}`);
  }
  return {
    rate: numberVar(env, `${prefix}_RATE`, d.rate, { min: 0.001, max: 10_000 }),
    burst: intVar(env, `${prefix}_BURST`, d.burst, { min: 1, max: 10_000 }),
    concurrency: intVar(env, `${prefix}_CONCURRENCY`, d.concurrency, { min: 1, max: 1000 }),
    timeoutMs: intVar(env, `${prefix}_TIMEOUT_MS`, d.timeoutMs, { min: 1, max: HOUR_MS }),
    maxQueue: intVar(env, `${prefix}_MAX_QUEUE`, d.maxQueue, { min: 1, max: 1_000_000 }),
    breakerThreshold: intVar(env, `${prefix}_BREAKER_THRESHOLD`, d.breakerThreshold, { min: 1, max: 10_000 }),
    breakerCooldownMs: cooldown,
    breakerMaxCooldownMs: maxCooldown,
  };
}

/**
 * Reads an HTTP dependency's limits and base URL (`<PREFIX>_URL`, or `urlVariable`).
 * @throws ConfigError naming the first variable with a bad value.
 */
export function readHttpSettings(env: Env, prefix: string, defaults: HttpDependencySettings, urlVariable = `${prefix}_URL`): HttpDependencySettings {
  return { url: urlVar(env, urlVariable, defaults.url), ...readLimits(env, prefix, defaults) };
}
