import type { Browser, Page, Route } from 'playwright';
import { DependencyError, DependencyTimeoutError, RejectedError, TargetForbiddenError, isDependencyError } from '../runtime/errors.js';
import { errorForStatus } from '../http/httpClient.js';
import type { FormCookie, FormRequest, FormResult, ScrapeRequest, ScrapeResult } from './calls.js';
import { firstLine } from './chromium.js';
import type { TargetGuard } from './targetGuard.js';
import { startTargetProxy, type TargetProxy } from './targetProxy.js';

/**
 * Most characters of visible text a scrape returns (about 200 kB of ASCII);
 * longer text is cut and the result says `truncated: true`.
 */
export const MAX_TEXT_CHARS = 200_000;

/** Resource types never downloaded: a scrape reads text. */
const BLOCKED_RESOURCES = new Set(['image', 'font', 'media']);

/** What a page call needs besides its request. */
export interface PageCallEnv {
  readonly dependency: string;
  /** The call's signal: aborting it closes the page. */
  readonly signal: AbortSignal;
  readonly guard: TargetGuard;
  /** The call's navigation timeout, for the error raised when it passes. */
  readonly timeoutMs: number;
}

/**
 * Runs `work` on a page of a fresh browser context (its own cookies and
 * cache) whose every request goes through its own {@link startTargetProxy}
 * (the SSRF guard). The context and the proxy are closed when `work` ends,
 * fails or the call's signal aborts, whichever comes first; failures come
 * out classified.
 * @throws DependencyError, see {@link classifyPageError}.
 */
export async function withPage<T>(browser: Browser, env: PageCallEnv, work: (page: Page) => Promise<T>): Promise<T> {
  let lastNavigation: string | undefined;
  const proxy = await startTargetProxy(env.guard);
  const classify = (e: unknown) => classifyPageError(e, { ...env, browser, lastNavigation, proxy });
  const context = await browser
    .newContext({ serviceWorkers: 'block', acceptDownloads: false, proxy: { server: proxy.server } })
    .catch(async (e: unknown) => {
      await proxy.close();
      throw classify(e);
    });
  // Closing fails only when the browser is gone, and the context with it.
  const close = () => context.close().catch(() => undefined);
  const closeOnAbort = () => void close();
  env.signal.addEventListener('abort', closeOnAbort, { once: true });
  try {
    env.signal.throwIfAborted();
    await context.route('**/*', (route) => screen(route, env.guard));
    const page = await context.newPage();
    page.on('request', (request) => {
      if (request.isNavigationRequest() && request.frame() === page.mainFrame()) lastNavigation = request.url();
    });
    return await work(page);
  } catch (e) {
    throw classify(e);
  } finally {
    env.signal.removeEventListener('abort', closeOnAbort);
    await close();
    await proxy.close();
  }
}

function screen(route: Route, guard: TargetGuard): Promise<void> {
  const request = route.request();
  const refused = BLOCKED_RESOURCES.has(request.resourceType()) || guard.refusal(request.url()) !== undefined;
  // The page may close while a request waits here; the route is moot then.
  return (refused ? route.abort('blockedbyclient') : route.continue()).catch(() => undefined);
}

/**
 * Turns what a page call threw into a dependency error: a navigation that
 * ended on a forbidden target (the URL or a redirect to a refused address or
 * the service's port) → `DEP_TARGET_FORBIDDEN`; a target the proxy could not
 * reach → `DEP_UNAVAILABLE` naming why; Chromium gone → `DEP_UNAVAILABLE`;
 * Playwright's timeout → `DEP_TIMEOUT`; a download → `DEP_REJECTED`;
 * `net::ERR_*` and anything else → `DEP_UNAVAILABLE` (retriable).
 */
function classifyPageError(
  e: unknown,
  env: PageCallEnv & { browser: Browser; lastNavigation: string | undefined; proxy: TargetProxy },
): DependencyError {
  const { dependency, lastNavigation } = env;
  if (isDependencyError(e)) return e;
  if (lastNavigation !== undefined) {
    const refusal = env.guard.refusal(lastNavigation);
    if (refusal) return new TargetForbiddenError(dependency, lastNavigation, refusal.reason);
    const outcome = env.proxy.outcomeOf(lastNavigation);
    if (outcome?.kind === 'refused') return new TargetForbiddenError(dependency, lastNavigation, outcome.reason);
    if (outcome?.kind === 'failed') return new DependencyError('DEP_UNAVAILABLE', dependency, `the page did not load (${outcome.reason})`, { cause: e });
  }
  if (!env.browser.isConnected()) return new DependencyError('DEP_UNAVAILABLE', dependency, 'Chromium disconnected during the call', { cause: e });
  if (e instanceof Error && e.name === 'TimeoutError') return new DependencyTimeoutError(dependency, env.timeoutMs);
  const line = firstLine(e);
  if (line.includes('Download is starting')) return new RejectedError(dependency, 'the URL is a download, not a page');
  const net = /net::ERR_[A-Z_]+/.exec(line)?.[0];
  return new DependencyError('DEP_UNAVAILABLE', dependency, net ? `the page did not load (${net})` : line, { cause: e });
}

function capText(text: string): { text: string; truncated: boolean } {
  if (text.length <= MAX_TEXT_CHARS) return { text, truncated: false };
  const cut = text.slice(0, MAX_TEXT_CHARS);
  // Do not end on half a surrogate pair.
  return { text: /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut, truncated: true };
}

/** Loads `request.url` and reads its title and visible text. */
export async function scrapePage(page: Page, request: ScrapeRequest): Promise<ScrapeResult> {
  const response = await page.goto(request.url, { waitUntil: request.waitUntil, timeout: request.timeoutMs });
  const title = await page.title();
  const visible = await page.evaluate<string>('document.body ? document.body.innerText : ""');
  return { url: request.url, finalUrl: page.url(), status: response?.status() ?? 0, title, ...capText(visible.trim()) };
}

async function theOnly(page: Page, selector: string, dependency: string) {
  const locator = page.locator(selector);
  const count = await locator.count();
  if (count !== 1) throw new RejectedError(dependency, `the form page has ${count} elements matching ${JSON.stringify(selector)}, expected one`);
  return locator;
}

/**
 * Opens the form page, fills the fields, clicks submit, waits for the page
 * it leads to, and returns that page's status and the context's cookies.
 * @throws RejectedError when a selector does not match exactly one element,
 * or the form page answered 4xx; ServerError for 5xx.
 */
export async function submitPageForm(page: Page, request: FormRequest & { timeoutMs: number }, dependency: string): Promise<FormResult> {
  const timeout = request.timeoutMs;
  const opened = await page.goto(request.url, { timeout });
  if (opened && opened.status() >= 400) throw errorForStatus(dependency, opened.status(), new Headers(await opened.allHeaders()), Date.now());
  for (const [selector, value] of Object.entries(request.fields)) await (await theOnly(page, selector, dependency)).fill(value, { timeout });
  const submit = await theOnly(page, request.submit, dependency);
  let status = 0;
  page.on('response', (response) => {
    const r = response.request();
    if (r.isNavigationRequest() && r.frame() === page.mainFrame()) status = response.status();
  });
  const navigated = page.waitForEvent('framenavigated', { predicate: (frame) => frame === page.mainFrame(), timeout });
  // Observed here so a failing click does not leave it rejected and unhandled.
  navigated.catch(() => undefined);
  await submit.click({ timeout });
  await navigated;
  await page.waitForLoadState('load', { timeout });
  const wanted = request.cookieNames;
  const cookies: FormCookie[] = (await page.context().cookies())
    .filter((c) => wanted === undefined || wanted.includes(c.name))
    .map(({ name, value, domain, path, expires }) => ({ name, value, domain, path, expires }));
  return { finalUrl: page.url(), status, cookies };
}
