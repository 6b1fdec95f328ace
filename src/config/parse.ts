import { ServiceError } from '../errors/serviceError.js';
import { ErrorCodes } from '../errors/codes.js';

/** The environment as the service reads it. */
export type Env = Record<string, string | undefined>;

/** Exit status of a process stopped by a {@link ConfigError} (`EX_CONFIG` of sysexits.h). */
export const CONFIG_ERROR_EXIT_CODE = 78;

/** Thrown when an environment variable holds a value the service cannot use. */
export class ConfigError extends ServiceError<typeof ErrorCodes.CONFIG_INVALID> {
  /** @param variable the variable's name, @param problem what is wrong with it */
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(ErrorCodes.CONFIG_INVALID, `${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

/** Reads a variable, treating an empty or blank value as unset. */
export function readVar(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/**
 * Reads an integer variable within `[min, max]`.
 * @throws ConfigError naming the variable when the value is not such an integer.
 */
export function intVar(env: Env, name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
  const raw = readVar(env, name);
  if (raw === undefined) return fallback;
  if (!/^-?\d+$/.test(raw)) throw new ConfigError(name, `must be an integer, got '${raw}'`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${raw}`);
  return n;
}

/**
 * Reads a non-negative decimal number variable within `[min, max]`.
 * @throws ConfigError naming the variable when the value is not such a number.
 */
export function numberVar(env: Env, name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
  const raw = readVar(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+(\.\d+)?$/.test(raw)) throw new ConfigError(name, `must be a number, got '${raw}'`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${raw}`);
  return n;
}

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration such as `2m`, `90s`, `500ms` or `1h30m` into milliseconds.
 * @returns undefined when the text is not a duration.
 */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(s)) return undefined;
  let total = 0;
  for (const [, n, , unit] of s.matchAll(/(\d+(\.\d+)?)(ms|s|m|h)/g)) total += Number(n) * durationUnits[unit!]!;
  return Math.round(total);
}

/**
 * Reads a duration variable (`2m`, `90s`, `500ms`, `1h30m`) in milliseconds.
 * @throws ConfigError naming the variable when the value is not a duration in range.
 */
export function durationVar(env: Env, name: string, fallbackMs: number, { minMs = 0, maxMs = Number.MAX_SAFE_INTEGER } = {}): number {
  const raw = readVar(env, name);
  if (raw === undefined) return fallbackMs;
  const ms = parseDuration(raw);
  if (ms === undefined) throw new ConfigError(name, `must be a duration such as 2m, 90s or 500ms, got '${raw}'`);
  if (ms < minMs || ms > maxMs) throw new ConfigError(name, `must be between ${minMs} ms and ${maxMs} ms, got '${raw}'`);
  return ms;
}

/**
 * Reads a comma-separated list of durations (`1s,5s,30s,2m`) in milliseconds.
 * @throws ConfigError naming the variable when an entry is not a duration.
 */
export function durationListVar(env: Env, name: string, fallbackMs: number[]): number[] {
  const raw = readVar(env, name);
  if (raw === undefined) return fallbackMs;
  return raw.split(',').map((part) => {
    const ms = parseDuration(part);
    if (ms === undefined) throw new ConfigError(name, `must be a comma-separated list of durations such as 1s,5s,30s,2m, got '${raw}'`);
    return ms;
  });
}

/**
 * Reads one of a fixed set of values.
 * @throws ConfigError naming the variable and the allowed values.
 */
export function enumVar<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = readVar(env, name);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got '${raw}'`);
  return raw as T;
}

/**
 * Reads an absolute http(s) URL, without a trailing slash.
 * @throws ConfigError naming the variable when the value is not such a URL.
 */
export function urlVar(env: Env, name: string, fallback: string): string {
  const raw = readVar(env, name);
  if (raw === undefined) return fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be an absolute URL, got '${raw}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(name, `must be an http(s) URL, got '${raw}'`);
  return raw.replace(/\/+$/, '');
}

/**
 * Reads a boolean flag: 1/true/yes/on or 0/false/no/off.
 * @throws ConfigError naming the variable for anything else.
 */
export function flagVar(env: Env, name: string, fallback: boolean): boolean {
  const raw = readVar(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, `must be 1 or 0 (true/false), got '${raw}'`);
}
