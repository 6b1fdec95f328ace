import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { parseDuration } from '../../config/parse.js';
import { BadResponseError, DependencyTimeoutError, RateLimitedError, RejectedError, UnavailableError, asDependencyError, type DependencyError } from '../runtime/errors.js';
import { errorForStatus, parseRetryAfter } from '../http/httpClient.js';

/** OpenAI's headers that say when a request or token limit is whole again ("1s", "6m0s", "20ms"). */
const RESET_HEADERS = ['x-ratelimit-reset-requests', 'x-ratelimit-reset-tokens'] as const;

/**
 * How long OpenAI asks to wait after a 429: `retry-after-ms`, else
 * `retry-after`, else the longest `x-ratelimit-reset-*` present (the time
 * until that limit is whole again: later than strictly needed, never earlier).
 * @returns milliseconds, or undefined when no header says.
 */
export function openaiRetryAfterMs(headers: Headers, now: number): number | undefined {
  const ms = headers.get('retry-after-ms')?.trim();
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Math.ceil(Number(ms));
  const retryAfter = parseRetryAfter(headers.get('retry-after'), now);
  if (retryAfter !== undefined) return retryAfter;
  const resets = RESET_HEADERS.map((name) => parseDuration(headers.get(name) ?? '')).filter((v): v is number => v !== undefined);
  return resets.length === 0 ? undefined : Math.max(...resets);
}

/**
 * Classifies what the OpenAI SDK threw: an abort or the SDK's own timeout →
 * `DEP_TIMEOUT`; no connection → `DEP_UNAVAILABLE`; 429 → `DEP_RATE_LIMITED`
 * with {@link openaiRetryAfterMs} (but an exhausted quota, `insufficient_quota`,
 * is `DEP_REJECTED`: waiting does not refill it); other statuses as
 * `errorForStatus`; a 2xx body that is not JSON → `DEP_BAD_RESPONSE`.
 */
export function openaiError(dependency: string, e: unknown, timeoutMs: number): DependencyError {
  if (e instanceof APIUserAbortError || e instanceof APIConnectionTimeoutError) return new DependencyTimeoutError(dependency, timeoutMs);
  if (e instanceof APIConnectionError) return new UnavailableError(dependency, e.cause ?? e);
  // `instanceof` leaves the class's type parameters `any`; the cast restores the SDK's declared ones.
  const apiError = e instanceof APIError ? (e as APIError) : undefined;
  if (apiError?.status !== undefined && apiError.headers) {
    const { status, headers, code } = apiError;
    if (status === 429 && code === 'insufficient_quota') {
      return new RejectedError(dependency, 'quota exhausted (insufficient_quota)', { upstreamStatus: 429 });
    }
    if (status === 429) return new RateLimitedError(dependency, openaiRetryAfterMs(headers, Date.now()));
    return errorForStatus(dependency, status, headers, Date.now());
  }
  // The SDK parses a JSON-typed 2xx body with JSON.parse.
  if (e instanceof SyntaxError) return new BadResponseError(dependency, 'answered with a body that is not JSON');
  return asDependencyError(dependency, e);
}
