import { readVar, type Env } from '../../config/parse.js';
import { limitDefaults, readHttpSettings, type HttpDependencySettings } from '../settings.js';

/** `MAM_*` settings. */
export interface MamSettings extends HttpDependencySettings {
  /** `MAM_ID`: a `mam_id` session cookie to start with. */
  id: string | undefined;
  /** `MAM_EMAIL`, `MAM_PASSWORD`: to log in when there is no valid session. */
  email: string | undefined;
  password: string | undefined;
}

/** A private tracker: one search every 2 s; a call may include a login (30 s). */
export const MAM_DEFAULTS: MamSettings = {
  url: 'https://www.myanonamouse.net',
  ...limitDefaults({ rate: 0.5, timeoutMs: 30_000 }),
  id: undefined,
  email: undefined,
  password: undefined,
};

/**
 * Reads `MAM_URL`, MAM's limits, `MAM_ID`, `MAM_EMAIL` and `MAM_PASSWORD`.
 * @throws ConfigError naming the first variable with a bad value.
 */
export function readMamSettings(env: Env): MamSettings {
  return { ...readHttpSettings(env, 'MAM', MAM_DEFAULTS), id: readVar(env, 'MAM_ID'), email: readVar(env, 'MAM_EMAIL'), password: readVar(env, 'MAM_PASSWORD') };
}
