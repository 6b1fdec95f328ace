import type { BrowserSettings } from './settings.js';
import type { DependencyCaller } from '../runtime/caller.js';
import { defineDependency, isRequestObject, type DependencyDefinition } from '../runtime/definition.js';
import { RejectedError, TargetForbiddenError } from '../runtime/errors.js';
import { WAIT_UNTIL, type ScrapeRequest, type ScrapeResult, type WaitUntil } from './calls.js';
import { MAX_TEXT_CHARS, scrapePage, withPage } from './page.js';
import { responseValidator } from '../http/responseValidator.js';
import { SharedChromium } from './chromium.js';
import { createTargetGuard, type Resolver, type TargetGuard } from './targetGuard.js';

const NAME = 'browser';

/** Options of {@link BrowserHandle.scrape}. */
export interface ScrapeOptions {
  /** @default 'load' */
  waitUntil?: WaitUntil;
  /**
   * Navigation timeout, at most `BROWSER_TIMEOUT_MS`; a slower page fails with `DEP_TIMEOUT`.
   * @default BROWSER_TIMEOUT_MS
   */
  timeoutMs?: number;
}

/** What handlers use: `deps.browser.scrape(url)`. */
export interface BrowserHandle {
  /**
   * Loads `url` in a fresh page (images, fonts and media not downloaded) and
   * returns its title and visible text.
   * @throws DependencyError: `DEP_REJECTED` for a URL that is not http(s);
   * `DEP_TARGET_FORBIDDEN` when the page (the URL or a redirect) targets the
   * service's own port or an address that is not public and not in
   * `BROWSER_ALLOW_HOSTS` (nothing is sent there; such subresources are
   * dropped silently); `DEP_TIMEOUT`; `DEP_UNAVAILABLE` (retriable) for
   * `net::ERR_*` failures, a Chromium crash or a failed launch; or the
   * runtime's errors.
   */
  scrape(url: string, options?: ScrapeOptions): Promise<ScrapeResult>;
}

/** Options of {@link browserDependency}. */
export interface BrowserDependencyOptions {
  /** Ports no page may reach, on any host: the service's own HTTP port (its admin routes). */
  forbiddenPorts: readonly number[];
  /**
   * How the guard resolves host names (tests inject one).
   * @default every address `dns.lookup` gives
   */
  resolve?: Resolver;
}

function checkUrl(url: unknown, guard: TargetGuard): string {
  if (typeof url !== 'string') throw new RejectedError(NAME, `url must be a string, got ${typeof url}`);
  const refusal = guard.refusal(url);
  if (refusal?.kind === 'forbidden') throw new TargetForbiddenError(NAME, url, refusal.reason);
  if (refusal) throw new RejectedError(NAME, `refused ${url}: ${refusal.reason}`);
  return url;
}

function checkTimeout(timeoutMs: unknown, max: number): number {
  if (timeoutMs === undefined) return max;
  if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > max) {
    throw new RejectedError(NAME, `timeoutMs must be an integer in 1..${max}, got ${typeof timeoutMs === 'number' ? timeoutMs : JSON.stringify(timeoutMs)}`);
  }
  return timeoutMs;
}

/**
 * The one set of rules for a scrape, applied by the handle and again by the
 * owner to a forwarded one (with the owner's guard and `BROWSER_ALLOW_HOSTS`).
 * @throws RejectedError or TargetForbiddenError naming what is wrong.
 */
function requestParser(guard: TargetGuard, maxTimeoutMs: number): (r: unknown) => ScrapeRequest {
  return (r) => {
    if (!isRequestObject(r) || r.kind !== 'scrape') throw new RejectedError(NAME, "the request must be { kind: 'scrape', url, waitUntil, timeoutMs }");
    const extra = Object.keys(r).filter((k) => !['kind', 'url', 'waitUntil', 'timeoutMs'].includes(k));
    if (extra.length > 0) throw new RejectedError(NAME, `unknown fields: ${extra.join(', ')}`);
    const waitUntil = r.waitUntil ?? 'load';
    if (!(WAIT_UNTIL as readonly unknown[]).includes(waitUntil)) throw new RejectedError(NAME, `waitUntil must be one of ${WAIT_UNTIL.join(', ')}, got ${JSON.stringify(waitUntil)}`);
    return { kind: 'scrape', url: checkUrl(r.url, guard), waitUntil: waitUntil as WaitUntil, timeoutMs: checkTimeout(r.timeoutMs, maxTimeoutMs) };
  };
}

/** A scrape result the browser owner answered, checked against the shape this actor returns. */
const forwardedResult = responseValidator<ScrapeResult>(NAME, 'scrape result', {
  type: 'object',
  additionalProperties: false,
  required: ['url', 'finalUrl', 'status', 'title', 'text', 'truncated'],
  properties: {
    url: { type: 'string' },
    finalUrl: { type: 'string' },
    status: { type: 'integer', minimum: 0, maximum: 999 },
    title: { type: 'string' },
    text: { type: 'string', maxLength: MAX_TEXT_CHARS },
    truncated: { type: 'boolean' },
  },
});

/**
 * Defines the browser actor: one Chromium for the service (launched on the
 * first call, relaunched after a crash, closed by the runtime's `stop()`), a
 * fresh context and page per call, `settings.concurrency` pages at most (the
 * actor's slots are the page pool; further calls wait in its mailbox).
 * Every context reaches the network only through its own guarded proxy
 * (targetProxy.ts).
 * @throws RangeError when a forbidden port is not in 1..65535.
 */
export function browserDependency(settings: BrowserSettings, options: BrowserDependencyOptions): DependencyDefinition<BrowserHandle> {
  const { chromiumPath, allowHosts, ...limits } = settings;
  const guard = createTargetGuard({ forbiddenPorts: options.forbiddenPorts, allowHosts, resolve: options.resolve });
  const chromium = new SharedChromium({ dependency: NAME, executablePath: chromiumPath, args: guard.chromiumArgs, launchTimeoutMs: limits.timeoutMs });
  const parseRequest = requestParser(guard, limits.timeoutMs);
  return defineDependency({
    options: limits,
    parseRequest,
    parseResult: (_request, value) => forwardedResult(value),
    perform: async (request: ScrapeRequest, { signal, dependency }) => {
      const browser = await chromium.browser();
      return withPage(browser, { dependency, signal, guard, timeoutMs: request.timeoutMs }, (page) => scrapePage(page, request));
    },
    handle: (caller: DependencyCaller<ScrapeRequest>): BrowserHandle => ({
      scrape: async (url, scrapeOptions = {}) => caller.call<ScrapeResult>(parseRequest({ kind: 'scrape', url, waitUntil: scrapeOptions.waitUntil, timeoutMs: scrapeOptions.timeoutMs })),
    }),
    dispose: () => chromium.close(),
  });
}
