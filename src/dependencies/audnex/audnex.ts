import type { HttpDependencySettings } from '../settings.js';
import type { DependencyCaller } from '../runtime/caller.js';
import { defineDependency, isRequestObject, type DependencyDefinition } from '../runtime/definition.js';
import { RejectedError } from '../runtime/errors.js';
import { requestJson } from '../http/httpClient.js';
import { found, notFound, type Lookup } from '../http/lookup.js';
import { responseValidator } from '../http/responseValidator.js';
import { AUDNEX_REGIONS, authorSchema, bookSchema, chaptersSchema, type AudnexAuthor, type AudnexBook, type AudnexChapters, type AudnexRegion } from './schemas.js';

const NAME = 'audnex';

/** One Audnex lookup, as it travels through the actor's mailbox. */
export interface AudnexRequest {
  readonly kind: 'book' | 'author' | 'chapters';
  /** A valid, upper-case ASIN. */
  readonly asin: string;
  readonly region: AudnexRegion;
}

/** Options of every lookup. */
export interface AudnexLookupOptions {
  /** @default 'us' */
  region?: AudnexRegion;
}

/** What handlers use: `deps.audnex.getBook(asin)`. */
export interface AudnexHandle {
  /**
   * `GET /books/{asin}`.
   * @throws DependencyError: `DEP_REJECTED` for a malformed ASIN (nothing is sent), or the call's failure.
   */
  getBook(asin: string, options?: AudnexLookupOptions): Promise<Lookup<AudnexBook>>;
  /**
   * `GET /authors/{asin}`.
   * @throws DependencyError as {@link AudnexHandle.getBook}.
   */
  getAuthor(asin: string, options?: AudnexLookupOptions): Promise<Lookup<AudnexAuthor>>;
  /**
   * `GET /books/{asin}/chapters`.
   * @throws DependencyError as {@link AudnexHandle.getBook}.
   */
  getChapters(asin: string, options?: AudnexLookupOptions): Promise<Lookup<AudnexChapters>>;
}

/** Audnex's own rule for an ASIN: 10 characters starting with B, or an ISBN-10 (upper case). */
export const AUDNEX_ASIN = /^(B[\dA-Z]{9}|\d{9}[\dX])$/;

/**
 * Checks and upper-cases an ASIN.
 * @throws RejectedError (`DEP_REJECTED`, permanent) when it is not one.
 */
function normaliseAsin(asin: unknown): string {
  const value = typeof asin === 'string' ? asin.trim().toUpperCase() : '';
  if (!AUDNEX_ASIN.test(value)) throw new RejectedError(NAME, `not an ASIN: ${JSON.stringify(asin)}`);
  return value;
}

function checkRegion(region: unknown): AudnexRegion {
  if (!(AUDNEX_REGIONS as readonly unknown[]).includes(region)) throw new RejectedError(NAME, `unknown region: ${JSON.stringify(region)}`);
  return region as AudnexRegion;
}

const KINDS: readonly AudnexRequest['kind'][] = ['book', 'author', 'chapters'];

/**
 * The one set of rules for a lookup, applied by the handle and again by the
 * owner to a forwarded one.
 * @throws RejectedError naming the field that is wrong.
 */
function parseRequest(r: unknown): AudnexRequest {
  if (!isRequestObject(r)) throw new RejectedError(NAME, 'the request must be an object');
  const extra = Object.keys(r).filter((k) => !['kind', 'asin', 'region'].includes(k));
  if (extra.length > 0) throw new RejectedError(NAME, `unknown fields: ${extra.join(', ')}`);
  if (!(KINDS as readonly unknown[]).includes(r.kind)) throw new RejectedError(NAME, `kind must be one of ${KINDS.join(', ')}`);
  return { kind: r.kind as AudnexRequest['kind'], asin: normaliseAsin(r.asin), region: checkRegion(r.region) };
}

const validate = {
  book: responseValidator<AudnexBook>(NAME, 'book', bookSchema),
  author: responseValidator<AudnexAuthor>(NAME, 'author', authorSchema),
  chapters: responseValidator<AudnexChapters>(NAME, 'chapters', chaptersSchema),
};

/** A lookup's result as the owner answered it, checked against the same schemas as Audnex's own answer. */
function parseResult(request: AudnexRequest, value: unknown): Lookup<AudnexBook | AudnexAuthor | AudnexChapters> {
  if (isRequestObject(value) && value.found === false && value.key === request.asin && Object.keys(value).length === 2) return notFound(request.asin);
  if (isRequestObject(value) && value.found === true && Object.keys(value).length === 2) return found(validate[request.kind](value.value));
  throw new RejectedError(NAME, 'not a lookup result');
}

const paths = {
  book: (asin: string) => `/books/${asin}`,
  author: (asin: string) => `/authors/${asin}`,
  chapters: (asin: string) => `/books/${asin}/chapters`,
};

/**
 * Defines the Audnex actor: one GET per call against `settings.url`, the
 * answer checked with ajv; 404 is a not-found result, not a failure.
 */
export function audnexDependency(settings: HttpDependencySettings): DependencyDefinition<AudnexHandle> {
  const { url: baseUrl, ...options } = settings;
  return defineDependency({
    options,
    parseRequest,
    parseResult,
    perform: async (request: AudnexRequest, { signal, dependency }) => {
      const url = new URL(`${baseUrl}${paths[request.kind](request.asin)}`);
      url.searchParams.set('region', request.region);
      const response = await requestJson(url, { dependency, signal, accept: [404] });
      if (response.status === 404) return notFound(request.asin);
      return found(validate[request.kind](response.body));
    },
    handle: (caller: DependencyCaller<AudnexRequest>): AudnexHandle => {
      const lookup = async <T>(kind: AudnexRequest['kind'], asin: string, options: AudnexLookupOptions = {}) =>
        caller.call<Lookup<T>>(parseRequest({ kind, asin, region: options.region ?? 'us' }));
      return {
        getBook: (asin, options) => lookup<AudnexBook>('book', asin, options),
        getAuthor: (asin, options) => lookup<AudnexAuthor>('author', asin, options),
        getChapters: (asin, options) => lookup<AudnexChapters>('chapters', asin, options),
      };
    },
  });
}
