import { intVar, readVar, type Env } from '../../config/parse.js';
import { limitDefaults, readHttpSettings, type HttpDependencySettings } from '../settings.js';

/** `BOTPRESS_*` settings. */
export interface BotpressSettings extends HttpDependencySettings {
  /** `BOTPRESS_TOKEN`. */
  token: string | undefined;
  /** `BOTPRESS_BOT_ID`. */
  botId: string | undefined;
  /** `BOTPRESS_INDEX_TIMEOUT_MS`: how long to wait for a file's indexing before giving up. */
  indexTimeoutMs: number;
}

/** A modest pace for uploads and index polls; file uploads (30 s). */
export const BOTPRESS_DEFAULTS: BotpressSettings = {
  url: 'https://api.botpress.cloud',
  ...limitDefaults({ rate: 2, timeoutMs: 30_000 }),
  token: undefined,
  botId: undefined,
  indexTimeoutMs: 30_000,
};

/**
 * Reads `BOTPRESS_URL`, Botpress's limits, token, bot id and indexing timeout.
 * @throws ConfigError naming the first variable with a bad value.
 */
export function readBotpressSettings(env: Env): BotpressSettings {
  return {
    ...readHttpSettings(env, 'BOTPRESS', BOTPRESS_DEFAULTS),
    token: readVar(env, 'BOTPRESS_TOKEN'),
    botId: readVar(env, 'BOTPRESS_BOT_ID'),
    indexTimeoutMs: intVar(env, 'BOTPRESS_INDEX_TIMEOUT_MS', BOTPRESS_DEFAULTS.indexTimeoutMs, { min: 1, max: 3_600_000 }),
  };
}
