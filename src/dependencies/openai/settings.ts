import { ConfigError, intVar, readVar, type Env } from '../../config/parse.js';
import { limitDefaults, readHttpSettings, type HttpDependencySettings } from '../settings.js';

/** `OPENAI_*` settings. */
export interface OpenAISettings extends HttpDependencySettings {
  /** `OPENAI_API_KEY`. */
  apiKey: string | undefined;
  /** `OPENAI_TOKENS_PER_MINUTE`: budget of tokens (estimated before a call, corrected from its usage). */
  tokensPerMinute: number;
  /** `OPENAI_MODEL`: the chat model extractions use. */
  model: string;
}

/** 60 requests a minute is well under tier-1 limits; structured completions take tens of seconds. */
export const OPENAI_DEFAULTS: OpenAISettings = {
  url: 'https://api.openai.com/v1',
  ...limitDefaults({ rate: 1, timeoutMs: 60_000 }),
  apiKey: undefined,
  tokensPerMinute: 30_000,
  model: 'gpt-4o-mini',
};

/** `OPENAI_URL` and the SDK's own `OPENAI_BASE_URL` name the same thing; refuse two different values. */
function urlVariable(env: Env): string {
  const generic = readVar(env, 'OPENAI_URL');
  const sdk = readVar(env, 'OPENAI_BASE_URL');
  if (generic !== undefined && sdk !== undefined && generic !== sdk) {
    throw new ConfigError('OPENAI_BASE_URL', `differs from OPENAI_URL ('${sdk}' vs '${generic}'); set only one`);
  }
  return sdk !== undefined ? 'OPENAI_BASE_URL' : 'OPENAI_URL';
}

/**
 * Reads `OPENAI_BASE_URL` (or `OPENAI_URL`), OpenAI's limits, key, model and token budget.
 * @throws ConfigError naming the first variable with a bad value.
 */
export function readOpenAISettings(env: Env): OpenAISettings {
  return {
    ...readHttpSettings(env, 'OPENAI', OPENAI_DEFAULTS, urlVariable(env)),
    apiKey: readVar(env, 'OPENAI_API_KEY'),
    tokensPerMinute: intVar(env, 'OPENAI_TOKENS_PER_MINUTE', OPENAI_DEFAULTS.tokensPerMinute, { min: 1, max: 100_000_000 }),
    model: readVar(env, 'OPENAI_MODEL') ?? OPENAI_DEFAULTS.model,
  };
}
