import { hostPortListVar, type HostPort } from './allowHosts.js';
import { ConfigError, flagVar, intVar, numberVar, readVar, urlVar, type Env } from './parse.js';

/** The dependencies the supervisor runs, by systemId. */
export const DEPENDENCY_NAMES = ['audnex', 'mam', 'openai', 'botpress', 'browser'] as const;

/** `audnex`, `mam`, `openai`, `botpress` or `browser`. */
export type DependencyName = (typeof DEPENDENCY_NAMES)[number];

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

/** Every dependency's settings, read once at start. */
export interface DependenciesConfig {
  audnex: HttpDependencySettings;
  mam: HttpDependencySettings & {
    /** `MAM_ID`: a `mam_id` session cookie to start with. */
    id: string | undefined;
    /** `MAM_EMAIL`, `MAM_PASSWORD`: to log in when there is no valid session. */
    email: string | undefined;
    password: string | undefined;
  };
  openai: HttpDependencySettings & {
    /** `OPENAI_API_KEY`. */
    apiKey: string | undefined;
    /** `OPENAI_TOKENS_PER_MINUTE`: budget of tokens (estimated before a call, corrected from its usage). */
    tokensPerMinute: number;
    /** `OPENAI_MODEL`: the chat model extractions use. */
    model: string;
  };
  botpress: HttpDependencySettings & {
    /** `BOTPRESS_TOKEN`. */
    token: string | undefined;
    /** `BOTPRESS_BOT_ID`. */
    botId: string | undefined;
    /** `BOTPRESS_INDEX_TIMEOUT_MS`: how long to wait for a file's indexing before giving up. */
    indexTimeoutMs: number;
  };
  browser: DependencyLimits & {
    /** `CHROMIUM_PATH`: the Chromium executable. */
    chromiumPath: string;
    /**
     * `BROWSER_ALLOW_HOSTS`: targets a page may reach although their address
     * is loopback, private or otherwise refused (comma-separated `host[:port]`).
     * @default [] (public addresses only)
     */
    allowHosts: readonly HostPort[];
  };
  /** `XSTATE_INSPECT=1` (development only) and `XSTATE_INSPECT_PORT`. */
  inspect: { enabled: boolean; port: number };
}

type Defaults = DependencyLimits & { url?: string };

const common = { burst: 1, concurrency: 1, maxQueue: 100, breakerThreshold: 5, breakerCooldownMs: 30_000, breakerMaxCooldownMs: 300_000 };

/** Conservative defaults; README explains each. */
export const DEPENDENCY_DEFAULTS: Record<DependencyName, Defaults> = {
  audnex: { ...common, url: 'https://api.audnex.us', rate: 1, timeoutMs: 10_000 },
  mam: { ...common, url: 'https://www.myanonamouse.net', rate: 0.5, timeoutMs: 30_000 },
  openai: { ...common, url: 'https://api.openai.com/v1', rate: 1, timeoutMs: 60_000 },
  botpress: { ...common, url: 'https://api.botpress.cloud', rate: 2, timeoutMs: 30_000 },
  browser: { ...common, rate: 2, burst: 5, concurrency: 5, timeoutMs: 30_000 },
};

const HOUR_MS = 3_600_000;

function limits(env: Env, prefix: string, d: Defaults): DependencyLimits {
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

function httpDependency(env: Env, name: DependencyName, url = `${name.toUpperCase()}_URL`): HttpDependencySettings {
  const d = DEPENDENCY_DEFAULTS[name];
  return { url: urlVar(env, url, d.url ?? ''), ...limits(env, name.toUpperCase(), d) };
}

/** `OPENAI_URL` and the SDK's own `OPENAI_BASE_URL` name the same thing; refuse two different values. */
function openaiUrlVariable(env: Env): string {
  const generic = readVar(env, 'OPENAI_URL');
  const sdk = readVar(env, 'OPENAI_BASE_URL');
  if (generic !== undefined && sdk !== undefined && generic !== sdk) {
    throw new ConfigError('OPENAI_BASE_URL', `differs from OPENAI_URL ('${sdk}' vs '${generic}'); set only one`);
  }
  return sdk !== undefined ? 'OPENAI_BASE_URL' : 'OPENAI_URL';
}

/**
 * Reads every dependency's variables into one validated object.
 * @throws ConfigError (code `CONFIG_INVALID`) naming the first variable with a bad value, and the value.
 */
export function loadDependenciesConfig(env: Env): DependenciesConfig {
  return {
    audnex: httpDependency(env, 'audnex'),
    mam: {
      ...httpDependency(env, 'mam'),
      id: readVar(env, 'MAM_ID'),
      email: readVar(env, 'MAM_EMAIL'),
      password: readVar(env, 'MAM_PASSWORD'),
    },
    openai: {
      ...httpDependency(env, 'openai', openaiUrlVariable(env)),
      apiKey: readVar(env, 'OPENAI_API_KEY'),
      tokensPerMinute: intVar(env, 'OPENAI_TOKENS_PER_MINUTE', 30_000, { min: 1, max: 100_000_000 }),
      model: readVar(env, 'OPENAI_MODEL') ?? 'gpt-4o-mini',
    },
    botpress: {
      ...httpDependency(env, 'botpress'),
      token: readVar(env, 'BOTPRESS_TOKEN'),
      botId: readVar(env, 'BOTPRESS_BOT_ID'),
      indexTimeoutMs: intVar(env, 'BOTPRESS_INDEX_TIMEOUT_MS', 30_000, { min: 1, max: HOUR_MS }),
    },
    browser: {
      ...limits(env, 'BROWSER', DEPENDENCY_DEFAULTS.browser),
      chromiumPath: readVar(env, 'CHROMIUM_PATH') ?? '/usr/bin/chromium',
      allowHosts: hostPortListVar(env, 'BROWSER_ALLOW_HOSTS'),
    },
    inspect: {
      enabled: flagVar(env, 'XSTATE_INSPECT', false),
      port: intVar(env, 'XSTATE_INSPECT_PORT', 8484, { min: 1, max: 65_535 }),
    },
  };
}
