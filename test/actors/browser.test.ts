import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { browserDependency, type BrowserHandle } from '../../actors/browser.js';
import { MAX_TEXT_CHARS } from '../../actors/browserPage.js';
import { DEPENDENCY_DEFAULTS, type DependenciesConfig } from '../../src/config/dependencies.js';
import type { DependencyDefinition } from '../../src/runtime/definition.js';
import type { DependencyError } from '../../src/runtime/errors.js';
import { startDependencies, type DependencyRuntime } from '../../src/runtime/runtime.js';
import { chromiumBrowsers, chromiumProcessesMarked } from '../helpers/chromiumProcesses.js';
import { track } from '../helpers/controlledDependency.js';
import { waitFor } from '../helpers/waitFor.js';
import { BIG_TEXT_CHARS, FORM_ACCOUNT, startPagesStub } from '../stubs/pages.js';
import { StubServer } from '../stubs/stubServer.js';
import { failureOf } from '../helpers/outcomes.js';

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Set before the first launch: Chromium and its children inherit it, so leaks are found even after re-parenting.
const MARKER_NAME = 'BROWSER_ACTOR_TEST_RUN';


/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('browser actor', function () {
  this.timeout(60_000);
  let marker: string;
  let site: StubServer;
  /** Stands in for the service's own HTTP server and its admin routes. */
  let admin: StubServer;
  let adminPort: number;
  let runtime: DependencyRuntime<{ browser: DependencyDefinition<BrowserHandle> }> | undefined;
  let browser: BrowserHandle;

  function start(overrides: Partial<DependenciesConfig['browser']> = {}) {
    const settings = { ...DEPENDENCY_DEFAULTS.browser, rate: 1000, burst: 100, chromiumPath: CHROMIUM_PATH, ...overrides };
    runtime = startDependencies({ browser: browserDependency(settings, { forbiddenPorts: [adminPort] }) });
    browser = runtime.deps.browser;
  }

  before(async () => {
    marker = `${MARKER_NAME}=${randomUUID()}`;
    process.env[MARKER_NAME] = marker.split('=')[1];
    site = await startPagesStub();
    admin = await StubServer.start(() => ({ status: 200, body: { deadLetters: [] } }));
    adminPort = Number(new URL(admin.url).port);
  });
  afterEach(async () => {
    await runtime?.stop();
    runtime = undefined;
    site.setMode({ kind: 'ok' });
    site.answerDelayMs = 0;
    site.clearRecords();
    await waitFor('Chromium to exit after stop()', () => chromiumProcessesMarked(marker).length === 0);
  });
  after(async () => {
    await site.close();
    await admin.close();
    delete process.env[MARKER_NAME];
    expect(chromiumBrowsers(), 'Chromium processes of this test process').to.deep.equal([]);
    expect(chromiumProcessesMarked(marker), 'Chromium processes launched by these tests').to.deep.equal([]);
  });

  describe('scrape', () => {
    it('returns the title and visible text, without downloading images, fonts or media', async () => {
      start();
      const result = await browser.scrape(`${site.url}/article`);
      expect(result).to.deep.include({ url: `${site.url}/article`, finalUrl: `${site.url}/article`, status: 200, title: 'A Quiet Article', truncated: false });
      expect(result.text).to.match(/^Hail Mary\s+Ryland Grace wakes up alone\.\s+Set in a web font\.$/);
      expect(result.text).to.not.include('HIDDEN TEXT');
      expect(site.calls.map((c) => c.path)).to.deep.equal(['/article']);
    });

    it('returns a 404 or a 503 page as a result carrying its status', async () => {
      start();
      const [missing, broken] = await Promise.all([browser.scrape(`${site.url}/missing`), browser.scrape(`${site.url}/broken`)]);
      expect(missing).to.deep.include({ status: 404, title: 'Not Found', text: 'Nothing here' });
      expect(broken).to.deep.include({ status: 503, title: 'Maintenance', text: 'Down for maintenance' });
    });

    it('follows redirects and reports where the page ended', async () => {
      start();
      const url = `${site.url}/redirect?to=/plain/7`;
      expect(await browser.scrape(url)).to.deep.include({ url, finalUrl: `${site.url}/plain/7`, status: 200, title: 'Plain 7' });
    });

    it(`cuts the text at ${MAX_TEXT_CHARS} characters and says so`, async () => {
      start();
      const result = await browser.scrape(`${site.url}/big`);
      expect(BIG_TEXT_CHARS).to.be.greaterThan(MAX_TEXT_CHARS);
      expect(result.text).to.have.length(MAX_TEXT_CHARS);
      expect(result.truncated).to.equal(true);
    });
  });

  describe('target guard', () => {
    it('refuses file:, data: and malformed URLs with DEP_REJECTED before launching Chromium', async () => {
      start();
      for (const url of ['file:///etc/passwd', 'data:text/html,<p>x</p>', 'javascript:alert(1)', 'not a url']) {
        expect(await failureOf(browser.scrape(url)), url).to.deep.include({ code: 'DEP_REJECTED', retriable: false });
      }
      expect(chromiumBrowsers(), 'no Chromium was launched').to.deep.equal([]);
    });

    it("refuses the service's port on a local address, and redirects to it, without reaching it", async () => {
      start();
      const direct = [`http://127.0.0.1:${adminPort}/dead-letters`, `http://localhost:${adminPort}/dead-letters`, `http://[::1]:${adminPort}/`];
      for (const url of direct) expect(await failureOf(browser.scrape(url)), url).to.deep.include({ code: 'DEP_REJECTED', retriable: false });
      for (const target of [`http://127.0.0.1:${adminPort}/dead-letters`, `http://localhost:${adminPort}/dead-letters`]) {
        const error = await failureOf(browser.scrape(`${site.url}/redirect?to=${encodeURIComponent(target)}`));
        expect(error, target).to.deep.include({ code: 'DEP_REJECTED', retriable: false });
        expect(error.message).to.include(target);
      }
      expect(admin.calls, 'requests that reached the admin routes').to.deep.equal([]);
      expect(await browser.scrape(`${site.url}/plain/1`), 'other local ports stay reachable').to.deep.include({ status: 200 });
    });
  });

  describe('submitForm', () => {
    it('fills and submits a form and returns the cookies the site set', async () => {
      start();
      const result = await browser.submitForm({
        url: `${site.url}/form`,
        fields: { 'input[name="email"]': FORM_ACCOUNT.email, 'input[name="password"]': FORM_ACCOUNT.password },
        submit: 'input[type="submit"]',
        cookieNames: ['sid'],
      });
      expect(result).to.deep.include({ finalUrl: `${site.url}/welcome`, status: 200 });
      expect(result.cookies).to.have.length(1);
      expect(result.cookies[0]).to.deep.include({ name: 'sid', value: 's3cr3t', domain: '127.0.0.1', path: '/', expires: -1 });
      const session = site.calls.find((c) => c.path === '/session');
      expect(session).to.deep.include({ method: 'POST', status: 302 });
    });

    it('fails with DEP_REJECTED when a selector matches nothing, and refuses a forbidden form URL', async () => {
      start();
      const missing = await failureOf(browser.submitForm({ url: `${site.url}/form`, fields: { '#nope': 'x' }, submit: 'input[type="submit"]' }));
      expect(missing).to.deep.include({ code: 'DEP_REJECTED', retriable: false });
      expect(missing.message).to.include('#nope');
      const forbidden = await failureOf(browser.submitForm({ url: `http://127.0.0.1:${adminPort}/`, fields: { a: 'b' }, submit: 'c' }));
      expect(forbidden.code).to.equal('DEP_REJECTED');
      expect(admin.calls).to.deep.equal([]);
    });
  });

  describe('failure classification', () => {
    it('classifies a refused connection as DEP_UNAVAILABLE and a slow page as DEP_TIMEOUT, closing the page', async () => {
      start({ timeoutMs: 20_000 });
      const refused = await failureOf(browser.scrape(`http://127.0.0.1:${await closedPort()}/`));
      expect(refused).to.deep.include({ code: 'DEP_UNAVAILABLE', retriable: true });
      expect(refused.message).to.include('net::ERR_CONNECTION_REFUSED');
      site.failNext({ kind: 'hang' });
      const slow = await failureOf(browser.scrape(`${site.url}/plain/1`, { timeoutMs: 300 }));
      expect(slow).to.deep.include({ code: 'DEP_TIMEOUT', retriable: true });
      await waitFor('the hanging request to be abandoned', () => site.calls[0]?.outcome === 'aborted');
    });

    it("closes the page when the actor's timeout aborts the call", async () => {
      start({ timeoutMs: 4000 });
      await browser.scrape(`${site.url}/plain/0`);
      site.clearRecords();
      site.failNext({ kind: 'hang' });
      expect((await failureOf(browser.scrape(`${site.url}/plain/1`))).code).to.equal('DEP_TIMEOUT');
      await waitFor('the hanging request to be abandoned', () => site.calls[0]?.outcome === 'aborted');
      expect(await browser.scrape(`${site.url}/plain/2`)).to.deep.include({ status: 200 });
    });

    it('fails with a retriable DEP_UNAVAILABLE naming CHROMIUM_PATH when Chromium cannot start, and opens the breaker', async () => {
      start({ chromiumPath: '/nonexistent/chromium', breakerThreshold: 2 });
      for (let i = 0; i < 2; i++) {
        const error = await failureOf(browser.scrape(`${site.url}/plain/1`));
        expect(error).to.deep.include({ code: 'DEP_UNAVAILABLE', retriable: true });
        expect(error.message).to.include('CHROMIUM_PATH').and.include('/nonexistent/chromium');
      }
      expect((await failureOf(browser.scrape(`${site.url}/plain/1`))).code).to.equal('DEP_CIRCUIT_OPEN');
      expect(site.calls).to.deep.equal([]);
    });
  });

  describe('one shared Chromium', () => {
    it('serves 20 concurrent scrapes with one browser process and at most BROWSER_CONCURRENCY pages at once', async () => {
      const concurrency = 5;
      start({ concurrency });
      site.answerDelayMs = 200;
      let mostCalls = 0;
      runtime!.subscribe((e) => {
        if (e.type === 'dep.callStarted') mostCalls = Math.max(mostCalls, e.inFlight);
      });
      const browsersSeen = new Set<number>();
      let mostAtOnce = 0;
      const sample = setInterval(() => {
        const pids = chromiumBrowsers();
        for (const pid of pids) browsersSeen.add(pid);
        mostAtOnce = Math.max(mostAtOnce, pids.length);
      }, 25);
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => browser.scrape(`${site.url}/plain/${i}`)));
      clearInterval(sample);
      expect(results.map((r) => r.title)).to.deep.equal(Array.from({ length: 20 }, (_, i) => `Plain ${i}`));
      expect(browsersSeen.size, 'browser processes launched').to.equal(1);
      expect(mostAtOnce).to.equal(1);
      expect(site.calls).to.have.length(20);
      // Each call holds one slot and opens one page: the slots are the page pool.
      expect(mostCalls, 'calls in flight at once').to.equal(concurrency);
      expect(site.maxConcurrency, 'pages loading at once').to.be.within(2, concurrency);
    });

    it('relaunches Chromium after it is killed: calls in flight fail retriably, later calls succeed', async () => {
      start({ concurrency: 2 });
      await browser.scrape(`${site.url}/plain/0`);
      const [first] = chromiumBrowsers();
      site.clearRecords();
      site.answerDelayMs = 400;
      const calls = [1, 2, 3, 4].map((i) => track(browser.scrape(`${site.url}/plain/${i}`)));
      await waitFor('two pages to be loading', () => site.inFlight === 2);
      process.kill(first!, 'SIGKILL');
      await waitFor('every call to settle', () => calls.every((c) => c.settled));

      const failed = calls.filter((c) => c.error).map((c) => c.error as DependencyError);
      expect(failed.map((e) => [e.code, e.retriable])).to.deep.equal([
        ['DEP_UNAVAILABLE', true],
        ['DEP_UNAVAILABLE', true],
      ]);
      expect(calls.slice(2).map((c) => c.value?.title)).to.deep.equal(['Plain 3', 'Plain 4']);
      const relaunched = chromiumBrowsers();
      expect(relaunched).to.have.length(1);
      expect(relaunched[0]).to.not.equal(first);
      expect(await browser.scrape(`${site.url}/plain/5`)).to.deep.include({ status: 200 });
    });

    it('closes Chromium when the runtime stops', async () => {
      start();
      await browser.scrape(`${site.url}/plain/1`);
      expect(chromiumBrowsers()).to.have.length(1);
      await runtime!.stop();
      runtime = undefined;
      await waitFor('Chromium to exit', () => chromiumBrowsers().length === 0);
      expect(chromiumProcessesMarked(marker)).to.deep.equal([]);
    });
  });
});
