import { AsyncLocalStorage } from 'node:async_hooks';
import { Client, axios, isApiError, type ClientInputs } from '@botpress/client';
import { DependencyTimeoutError, UnavailableError, asDependencyError, isDependencyError, type DependencyError } from '../runtime/errors.js';
import { errorForStatus } from '../http/httpClient.js';
import { responseValidator } from '../http/responseValidator.js';
import { getFileSchema, upsertFileSchema, type BotpressFile, type UpsertedFile } from './schemas.js';

/** Where and as whom the Files API is called. */
export interface BotpressFilesSettings {
  /** The actor's name, for the errors raised. */
  dependency: string;
  /** `BOTPRESS_URL`. */
  apiUrl: string;
  token: string;
  botId: string;
  /** The actor's call timeout (for the errors raised; the actor aborts the call). */
  timeoutMs: number;
}

/** The Files API calls the Botpress actor makes; each is aborted by `signal`. */
export interface BotpressFiles {
  /**
   * `PUT /v1/files`: creates the file `input.key`, or updates it if that key exists.
   * @throws DependencyError classified from the HTTP outcome.
   */
  upsertFile(input: ClientInputs['upsertFile'], signal: AbortSignal): Promise<UpsertedFile>;
  /**
   * PUTs the file's content to the `uploadUrl` upsertFile returned.
   * @throws DependencyError classified from the HTTP outcome.
   */
  uploadContent(file: UpsertedFile, content: Uint8Array, signal: AbortSignal): Promise<void>;
  /**
   * `GET /v1/files/{id}`.
   * @throws DependencyError classified from the HTTP outcome.
   */
  getFile(id: string, signal: AbortSignal): Promise<BotpressFile>;
}

/** Headers as fetch's `Headers`, from axios's plain object. */
function toHeaders(raw: unknown): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries((raw ?? {}) as Record<string, unknown>)) {
    if (typeof value === 'string' || typeof value === 'number') headers.set(name, String(value));
  }
  return headers;
}

/**
 * Creates the one `@botpress/client` of the actor. The client takes no
 * per-request signal and its errors drop the HTTP status and headers (so
 * `Retry-After`), both of which the actor needs: it attaches them on the
 * client's axios instance, the call's signal through AsyncLocalStorage, and
 * the failure classified before the client wraps it.
 * @throws Error when this client version no longer has that instance.
 */
export function createBotpressFiles(settings: BotpressFilesSettings): BotpressFiles {
  const { dependency, timeoutMs } = settings;
  // The actor aborts a call at timeoutMs; the client's own timeout only backs that up.
  const client = new Client({ apiUrl: settings.apiUrl, token: settings.token, botId: settings.botId, timeout: timeoutMs + 1000 });
  const instance = (client as unknown as { axiosInstance?: axios.AxiosInstance }).axiosInstance;
  if (!instance?.interceptors) throw new Error('@botpress/client exposes no axios instance: the Botpress actor cannot abort its calls');

  const signals = new AsyncLocalStorage<AbortSignal>();
  const classify = (e: unknown): DependencyError => {
    if (!axios.isAxiosError(e)) return asDependencyError(dependency, e);
    if (e.response) return errorForStatus(dependency, e.response.status, toHeaders(e.response.headers), Date.now());
    if (e.code === 'ERR_CANCELED' || e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT') return new DependencyTimeoutError(dependency, timeoutMs);
    return new UnavailableError(dependency, e);
  };
  instance.interceptors.request.use((config) => {
    const signal = signals.getStore();
    if (signal) config.signal = signal;
    return config;
  });
  instance.interceptors.response.use(undefined, (e: unknown) => Promise.reject(classify(e)));

  // The client wraps what the interceptor rejected with in an UnknownError's `error`.
  const unwrap = (e: unknown): DependencyError => {
    const inner = isApiError(e) ? e.error : e;
    return isDependencyError(inner) ? inner : asDependencyError(dependency, e);
  };
  const send = async <T>(signal: AbortSignal, request: () => Promise<unknown>, validate: (body: unknown) => T): Promise<T> => {
    let body: unknown;
    try {
      body = await signals.run(signal, request);
    } catch (e) {
      throw unwrap(e);
    }
    return validate(body);
  };
  const checkUpsert = responseValidator<{ file: UpsertedFile }>(dependency, 'upsertFile answer', upsertFileSchema);
  const checkGet = responseValidator<{ file: BotpressFile }>(dependency, 'getFile answer', getFileSchema);

  return {
    upsertFile: async (input, signal) => (await send(signal, () => client.upsertFile(input), checkUpsert)).file,
    getFile: async (id, signal) => (await send(signal, () => client.getFile({ id }), checkGet)).file,
    async uploadContent(file, content, signal) {
      let response: Response;
      try {
        response = await fetch(file.uploadUrl, { method: 'PUT', body: content, headers: { 'content-type': file.contentType }, signal });
        await response.body?.cancel();
      } catch (e) {
        throw signal.aborted ? new DependencyTimeoutError(dependency, timeoutMs) : new UnavailableError(dependency, e);
      }
      if (!response.ok) throw errorForStatus(dependency, response.status, response.headers, Date.now());
    },
  };
}
