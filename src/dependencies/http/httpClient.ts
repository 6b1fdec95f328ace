import { BadResponseError, RateLimitedError, RejectedError, ServerError, UnavailableError, isDependencyError } from '../runtime/errors.js';

/** Options of {@link requestJson}. */
export interface JsonRequestOptions {
  /** The actor's name, for the errors raised. */
  dependency: string;
  /** The call's signal (from `CallContext`); aborts the request. */
  signal: AbortSignal;
  /** @default 'GET' */
  method?: string;
  /** Sent as is; `accept: application/json` is added. */
  headers?: Record<string, string>;
  /** A JSON-serialisable body (sent with `content-type: application/json`). */
  json?: unknown;
  /**
   * Non-2xx statuses returned to the caller instead of thrown (e.g. `[404]`
   * when "not found" is a result).
   * @default []
   */
  accept?: readonly number[];
}

/** A response whose status was 2xx or accepted. */
export interface JsonResponse {
  readonly status: number;
  readonly headers: Headers;
  /** The parsed JSON body (undefined for an accepted non-2xx without JSON). */
  readonly body: unknown;
}

/**
 * Parses a `Retry-After` value (delay-seconds or HTTP-date, RFC 9110 §10.2.3).
 * @returns milliseconds from `now`, or undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // Every HTTP-date form starts with a day name; this keeps Date.parse from reading '-5' as a year.
  if (!/^[A-Za-z]/.test(v)) return undefined;
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Classifies an HTTP status that is neither 2xx nor accepted: 429 →
 * `DEP_RATE_LIMITED` (with its `Retry-After`), 408 and 5xx →
 * `DEP_SERVER_ERROR`, any other → `DEP_REJECTED` (permanent).
 */
export function errorForStatus(dependency: string, status: number, headers: Headers, now: number) {
  if (status === 429) return new RateLimitedError(dependency, parseRetryAfter(headers.get('retry-after'), now));
  if (status === 408 || status >= 500) return new ServerError(dependency, status);
  return new RejectedError(dependency, `answered HTTP ${status}`, { upstreamStatus: status });
}

/**
 * Performs one HTTP request with global `fetch` and returns its JSON.
 * @throws UnavailableError when the network fails, the error of
 * {@link errorForStatus} for a refused status, BadResponseError when a 2xx
 * body is not JSON.
 */
export async function requestJson(url: string | URL, options: JsonRequestOptions): Promise<JsonResponse> {
  const { dependency, signal, json } = options;
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (json !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, { method: options.method ?? 'GET', headers, body: json === undefined ? undefined : JSON.stringify(json), signal });
    if (!response.ok && !(options.accept ?? []).includes(response.status)) {
      await response.body?.cancel();
      throw errorForStatus(dependency, response.status, response.headers, Date.now());
    }
    text = await response.text();
  } catch (e) {
    if (isDependencyError(e)) throw e;
    throw new UnavailableError(dependency, e);
  }
  try {
    return { status: response.status, headers: response.headers, body: text === '' && !response.ok ? undefined : JSON.parse(text) };
  } catch {
    if (!response.ok) return { status: response.status, headers: response.headers, body: undefined };
    throw new BadResponseError(dependency, `answered HTTP ${response.status} with a body that is not JSON`);
  }
}
