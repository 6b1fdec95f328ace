import type { Env } from '../../config/parse.js';
import { limitDefaults, readHttpSettings, type HttpDependencySettings } from '../settings.js';

/** `AUDNEX_*` settings. */
export type AudnexSettings = HttpDependencySettings;

/** Audnex allows 100 requests a minute per IP: 60 leaves headroom; a cache miss makes it ask Audible (10 s). */
export const AUDNEX_DEFAULTS: AudnexSettings = { url: 'https://api.audnex.us', ...limitDefaults({ rate: 1, timeoutMs: 10_000 }) };

/**
 * Reads `AUDNEX_URL` and Audnex's limits.
 * @throws ConfigError naming the first variable with a bad value.
 */
export function readAudnexSettings(env: Env): AudnexSettings {
  return readHttpSettings(env, 'AUDNEX', AUDNEX_DEFAULTS);
}
