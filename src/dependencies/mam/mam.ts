import type { MamSettings } from './settings.js';
import type { DependencyCaller } from '../runtime/caller.js';
import { defineDependency, isRequestObject, type DependencyDefinition } from '../runtime/definition.js';
import { BadResponseError, RejectedError, UnavailableError } from '../runtime/errors.js';
import { errorForStatus } from '../http/httpClient.js';
import type { Log } from '../../log.js';
import type { LoginBrowser } from '../browser/loginBrowser.js';
import { responseValidator } from '../http/responseValidator.js';
import { MAM_SEARCH_FIELDS, searchBody, searchResultSchema, searchResultValidator, type MamSearchField, type MamSearchResult } from './schemas.js';
import { MAM_COOKIE, MamSession, memorySessionStore, type SessionStore } from './session.js';

const NAME = 'mam';

/** A search, as handlers ask for it. */
export interface MamSearchQuery {
  /** Words to look for (1 to 256 characters). */
  text: string;
  /** @default ['title', 'author', 'narrator'] */
  srchIn?: MamSearchField[];
  /**
   * 0-based page of `MAM_PAGE_SIZE` (25) results.
   * @default 0
   */
  page?: number;
}

/** A search as it travels through the mailbox. */
export type MamSearchRequest = Required<MamSearchQuery>;

/** What handlers use: `deps.mam.search({ text })`. */
export interface MamHandle {
  /**
   * Searches MAM's torrents; nothing found is `{ total: 0, results: [] }`.
   * @throws DependencyError: `DEP_REJECTED` (permanent) for a bad query
   * (nothing is sent), without a usable session and credentials, or when
   * MAM refuses the login; `DEP_BAD_RESPONSE` for an answer that breaks the
   * schema; the runtime's retriable errors (`DEP_TIMEOUT`, `DEP_UNAVAILABLE`,
   * `DEP_SERVER_ERROR`, `DEP_RATE_LIMITED`, `DEP_CIRCUIT_OPEN`, ...).
   */
  search(query: MamSearchQuery): Promise<MamSearchResult>;
}

/** Options of {@link mamDependency}. */
export interface MamDependencyOptions {
  /** Logs in with `MAM_EMAIL`/`MAM_PASSWORD` in this process's own Chromium, when no session works. */
  login: LoginBrowser;
  /**
   * Where the cookie survives restarts (`kvSessionStore` over the `sessions` bucket).
   * @default an in-memory store
   */
  sessions?: SessionStore;
  /** Warns when the cookie cannot be saved. */
  log?: Pick<Log, 'warn'>;
}

const DEFAULT_FIELDS: MamSearchField[] = ['title', 'author', 'narrator'];

/**
 * The one set of rules for a search, applied by the handle to a query and by
 * the owner to a forwarded request.
 * @throws RejectedError naming the field that is wrong.
 */
function parseRequest(query: unknown): MamSearchRequest {
  if (!isRequestObject(query)) throw new RejectedError(NAME, 'the query must be an object with a text');
  const extra = Object.keys(query).filter((k) => !['text', 'srchIn', 'page'].includes(k));
  if (extra.length > 0) throw new RejectedError(NAME, `unknown fields: ${extra.join(', ')}`);
  const text = typeof query.text === 'string' ? query.text.trim() : '';
  if (text.length < 1 || text.length > 256) throw new RejectedError(NAME, 'text must be 1 to 256 characters');
  const srchIn = query.srchIn ?? DEFAULT_FIELDS;
  if (!Array.isArray(srchIn) || srchIn.length === 0 || !srchIn.every((f) => (MAM_SEARCH_FIELDS as readonly unknown[]).includes(f))) {
    throw new RejectedError(NAME, `srchIn must list some of ${MAM_SEARCH_FIELDS.join(', ')}`);
  }
  const page = query.page ?? 0;
  if (!Number.isSafeInteger(page) || (page as number) < 0 || (page as number) > 10_000) throw new RejectedError(NAME, `page must be an integer in 0..10000, got ${JSON.stringify(page)}`);
  return { text, srchIn: [...new Set(srchIn as MamSearchField[])], page: page as number };
}

/** A search result the MAM owner answered, checked against the shape this actor returns. */
const forwardedResult = responseValidator<MamSearchResult>(NAME, 'search result', searchResultSchema);

/** The `mam_id` value among Set-Cookie headers. */
function rotatedCookie(setCookies: string[]): string | undefined {
  for (const header of setCookies) {
    const [pair] = header.split(';');
    const eq = pair!.indexOf('=');
    if (eq < 0 || pair!.slice(0, eq).trim() !== MAM_COOKIE) continue;
    const value = pair!.slice(eq + 1).trim();
    return value === '' ? undefined : value;
  }
  return undefined;
}

/** MAM's ways of saying the session is not valid: 403, a redirect (to the login page), or an HTML/text "not signed in". */
const SESSION_REJECTED = Symbol('session rejected');

/**
 * Defines the MAM actor: `POST {MAM_URL}/tor/js/loadSearchJSONbasic.php`
 * with the `mam_id` cookie, which MAM replaces in every answer. The actor
 * owns that session (concurrency 1) and always sends the newest cookie; when
 * MAM refuses it, the call logs in once in a Chromium of its own (queued
 * calls wait; the credentials never leave this process) and searches again.
 * @throws RangeError when `settings.concurrency` is not 1 (`MAM_CONCURRENCY`).
 */
export function mamDependency(settings: MamSettings, options: MamDependencyOptions): DependencyDefinition<MamHandle> {
  const { url: baseUrl, id, email, password, ...limits } = settings;
  if (limits.concurrency !== 1) {
    throw new RangeError(`MAM_CONCURRENCY must be 1 (MAM replaces the session cookie on every answer), got ${limits.concurrency}`);
  }
  const session = new MamSession({
    dependency: NAME,
    store: options.sessions ?? memorySessionStore(),
    login: options.login,
    id,
    email,
    password,
    loginUrl: `${baseUrl}/login.php`,
    log: options.log,
  });
  const parse = searchResultValidator(NAME);

  async function searchWith(cookie: string, request: MamSearchRequest, signal: AbortSignal): Promise<MamSearchResult | typeof SESSION_REJECTED> {
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${baseUrl}/tor/js/loadSearchJSONbasic.php`, {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/json', cookie: `${MAM_COOKIE}=${cookie}` },
        body: JSON.stringify(searchBody(request.text, request.srchIn, request.page)),
        redirect: 'manual',
        signal,
      });
      text = await response.text();
    } catch (e) {
      throw new UnavailableError(NAME, e);
    }
    const next = rotatedCookie(response.headers.getSetCookie());
    if (next !== undefined) await session.rotate(next);
    if (response.status === 403 || (response.status >= 300 && response.status < 400)) return SESSION_REJECTED;
    if (!response.ok) throw errorForStatus(NAME, response.status, response.headers, Date.now());
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      if (/not (signed|logged) in|login/i.test(text)) return SESSION_REJECTED;
      throw new BadResponseError(NAME, `search answered HTTP ${response.status} with a body that is not JSON`);
    }
    return parse(body);
  }

  return defineDependency({
    options: limits,
    parseRequest,
    parseResult: (_request, value) => forwardedResult(value),
    perform: async (request: MamSearchRequest, { signal, lifetime }) => {
      // Ends: each refusal moves the session on (a newer stored cookie once, MAM_ID, login), and a refused fresh login throws.
      for (;;) {
        signal.throwIfAborted();
        const { cookie, fresh } = await session.current(lifetime);
        const outcome = await searchWith(cookie, request, signal);
        if (outcome !== SESSION_REJECTED) {
          session.accepted();
          return outcome;
        }
        if (fresh) throw new RejectedError(NAME, 'MAM refuses the session its login has just issued');
        await session.rejected();
      }
    },
    handle: (caller: DependencyCaller<MamSearchRequest>): MamHandle => ({
      search: async (query) => caller.call<MamSearchResult>(parseRequest(query)),
    }),
    dispose: () => {
      session.close();
      return options.login.close();
    },
  });
}
