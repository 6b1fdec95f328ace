import type { DependenciesConfig } from '../src/config/dependencies.js';
import type { DependencyCaller } from '../src/runtime/caller.js';
import { defineDependency, isRequestObject, type DependencyDefinition } from '../src/runtime/definition.js';
import { RejectedError, TargetForbiddenError } from '../src/runtime/errors.js';
import {
  WAIT_UNTIL,
  type BrowserRequest,
  type FormRequest,
  type FormResult,
  type ScrapeRequest,
  type ScrapeResult,
  type SubmitFormRequest,
  type WaitUntil,
} from './browserCalls.js';
import { scrapePage, submitPageForm, withPage } from './browserPage.js';
import { SharedChromium } from './chromium.js';
import { createTargetGuard, type Resolver, type TargetGuard } from './ssrfGuard.js';

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
  /**
   * Fills and submits a form, returning the cookies the site set.
   * @throws DependencyError as {@link BrowserHandle.scrape}, plus `DEP_REJECTED`
   * when a selector does not match exactly one element or the form page is 4xx.
   */
  submitForm(request: FormRequest): Promise<FormResult>;
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

function checkSelector(what: string, selector: unknown): string {
  if (typeof selector !== 'string' || selector.trim() === '') throw new RejectedError(NAME, `${what} must be a non-empty selector`);
  return selector;
}

function checkForm(request: FormRequest, guard: TargetGuard, maxTimeoutMs: number): SubmitFormRequest {
  if (typeof request !== 'object' || request === null) throw new RejectedError(NAME, 'the form request must be an object');
  const fields = Object.entries(request.fields ?? {});
  if (fields.length === 0) throw new RejectedError(NAME, 'fields must name at least one field');
  for (const [selector, value] of fields) {
    checkSelector('a field selector', selector);
    if (typeof value !== 'string') throw new RejectedError(NAME, `the value of ${selector} must be a string`);
  }
  const names = request.cookieNames;
  if (names !== undefined && (!Array.isArray(names) || !names.every((n) => typeof n === 'string'))) {
    throw new RejectedError(NAME, 'cookieNames must be an array of strings');
  }
  return {
    kind: 'submitForm',
    url: checkUrl(request.url, guard),
    fields: Object.fromEntries(fields),
    submit: checkSelector('submit', request.submit),
    cookieNames: names,
    timeoutMs: checkTimeout(request.timeoutMs, maxTimeoutMs),
  };
}

/**
 * Defines the browser actor: one Chromium for the service (launched on the
 * first call, relaunched after a crash, closed by the runtime's `stop()`), a
 * fresh context and page per call, `settings.concurrency` pages at most (the
 * actor's slots are the page pool; further calls wait in its mailbox).
 * Every context reaches the network only through its own guarded proxy
 * (targetProxy.ts).
 * @throws RangeError when a forbidden port is not in 1..65535.
 */
export function browserDependency(settings: DependenciesConfig['browser'], options: BrowserDependencyOptions): DependencyDefinition<BrowserHandle> {
  const { chromiumPath, allowHosts, ...limits } = settings;
  const guard = createTargetGuard({ forbiddenPorts: options.forbiddenPorts, allowHosts, resolve: options.resolve });
  const chromium = new SharedChromium({ dependency: NAME, executablePath: chromiumPath, args: guard.chromiumArgs, launchTimeoutMs: limits.timeoutMs });
  return defineDependency({
    options: limits,
    accepts: (r) => isRequestObject(r) && (r.kind === 'scrape' || r.kind === 'submitForm') && typeof r.url === 'string' && typeof r.timeoutMs === 'number',
    perform: async (request: BrowserRequest, { signal, dependency }) => {
      const browser = await chromium.browser();
      const env = { dependency, signal, guard, timeoutMs: request.timeoutMs };
      return withPage<ScrapeResult | FormResult>(browser, env, (page) =>
        request.kind === 'scrape' ? scrapePage(page, request) : submitPageForm(page, request, dependency),
      );
    },
    handle: (caller: DependencyCaller<BrowserRequest>): BrowserHandle => ({
      scrape: async (url, scrapeOptions = {}) => {
        const waitUntil = scrapeOptions.waitUntil ?? 'load';
        if (!WAIT_UNTIL.includes(waitUntil)) throw new RejectedError(NAME, `waitUntil must be one of ${WAIT_UNTIL.join(', ')}, got ${String(waitUntil)}`);
        const request: ScrapeRequest = { kind: 'scrape', url: checkUrl(url, guard), waitUntil, timeoutMs: checkTimeout(scrapeOptions.timeoutMs, limits.timeoutMs) };
        return caller.call<ScrapeResult>(request);
      },
      submitForm: async (form) => caller.call<FormResult>(checkForm(form, guard, limits.timeoutMs)),
    }),
    dispose: () => chromium.close(),
  });
}
