import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { browserDependency, type BrowserHandle } from '../../../src/dependencies/browser/browser.js';
import { MAX_TEXT_CHARS } from '../../../src/dependencies/browser/page.js';
import { parseHostPort, type HostPort } from '../../../src/config/allowHosts.js';
import { type DependenciesConfig } from '../../../src/dependencies/registry.js';
import { BROWSER_DEFAULTS } from '../../../src/dependencies/browser/settings.js';
import type { Resolver } from '../../../src/dependencies/browser/targetGuard.js';
import type { DependencyDefinition } from '../../../src/dependencies/runtime/definition.js';
import type { DependencyError } from '../../../src/dependencies/runtime/errors.js';
import { startDependencies, type DependencyRuntime } from '../../../src/dependencies/runtime/runtime.js';
import { chromiumBrowsers, chromiumProcessesMarked } from '../../helpers/chromiumProcesses.js';
import { track } from '../../helpers/controlledDependency.js';
import { waitFor } from '../../helpers/waitFor.js';
import { BIG_TEXT_CHARS, startPagesStub } from '../../stubs/pages.js';
import { StubServer } from '../../stubs/stubServer.js';
import { failureOf } from '../../helpers/outcomes.js';

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
  /** Another local service, never allow-listed: what a page must not reach. */
  let other: StubServer;
  let otherPort: number;
  let runtime: DependencyRuntime<{ browser: DependencyDefinition<BrowserHandle> }> | undefined;
  let browser: BrowserHandle;
  /** `host:port` of a stub, as BROWSER_ALLOW_HOSTS would name it. */
  const entry = (stub: StubServer): HostPort => parseHostPort(new URL(stub.url).host)!;

  /** Starts the actor with the pages stub (only) allow-listed, unless `overrides.allowHosts` says otherwise. */
  function start(overrides: Partial<DependenciesConfig['browser']> = {}, resolve?: Resolver) {
    const settings = { ...BROWSER_DEFAULTS, rate: 1000, burst: 100, chromiumPath: CHROMIUM_PATH, allowHosts: [entry(site)], ...overrides };
    runtime = startDependencies({ browser: browserDependency(settings, { forbiddenPorts: [adminPort], resolve }) });
    browser = runtime.deps.browser;
  }

  before(async () => {
    marker = `${MARKER_NAME}=${randomUUID()}`;
    process.env[MARKER_NAME] = marker.split('=')[1];
    site = await startPagesStub();
    admin = await StubServer.start(() => ({ status: 200, body: { deadLetters: [] } }));
    adminPort = Number(new URL(admin.url).port);
    other = await StubServer.start(() => ({ status: 200, body: 'internal', headers: { 'content-type': 'text/plain' } }));
    otherPort = Number(new URL(other.url).port);
  });
  afterEach(async () => {
    await runtime?.stop();
    runtime = undefined;
    site.setMode({ kind: 'ok' });
    site.answerDelayMs = 0;
    site.clearRecords();
    other.clearRecords();
    await waitFor('Chromium to exit after stop()', () => chromiumProcessesMarked(marker).length === 0);
  });
  after(async () => {
    await site.close();
    await admin.close();
    await other.close();
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

    it('refuses a loopback page by default, however its address is written, with DEP_TARGET_FORBIDDEN', async () => {
      start({ allowHosts: [] });
      const port = new URL(site.url).port;
      const spellings = ['127.0.0.1', '127.1', '2130706433', '0x7f.0.0.1', '0177.0.0.1', '[::1]', '[::ffff:127.0.0.1]', 'localhost', 'LOCALHOST'];
      for (const host of spellings) {
        const error = await failureOf(browser.scrape(`http://${host}:${port}/plain/1`));
        expect(error, host).to.deep.include({ code: 'DEP_TARGET_FORBIDDEN', retriable: false });
        expect(error.message, host).to.match(/loopback|unspecified|ipv4Mapped/);
      }
      expect(site.calls, 'requests that reached the page').to.deep.equal([]);
    });

    it('loads a loopback page that BROWSER_ALLOW_HOSTS names, on that port only', async () => {
      start({ allowHosts: [entry(site)] });
      expect(await browser.scrape(`${site.url}/plain/1`)).to.deep.include({ status: 200, title: 'Plain 1' });
      expect((await failureOf(browser.scrape(`${other.url}/`))).code).to.equal('DEP_TARGET_FORBIDDEN');
      expect(other.calls).to.deep.equal([]);
    });

    it("refuses the service's own port even when its host is allow-listed, directly and through redirects", async () => {
      start({ allowHosts: [{ host: '127.0.0.1' }, { host: 'localhost' }, { host: '[::1]' }] });
      const direct = [`http://127.0.0.1:${adminPort}/dead-letters`, `http://localhost:${adminPort}/dead-letters`, `http://[::1]:${adminPort}/`];
      for (const url of direct) expect(await failureOf(browser.scrape(url)), url).to.deep.include({ code: 'DEP_TARGET_FORBIDDEN', retriable: false });
      for (const target of [`http://127.0.0.1:${adminPort}/dead-letters`, `http://localhost:${adminPort}/dead-letters`]) {
        const error = await failureOf(browser.scrape(`${site.url}/redirect?to=${encodeURIComponent(target)}`));
        expect(error, target).to.deep.include({ code: 'DEP_TARGET_FORBIDDEN', retriable: false });
        expect(error.message).to.include(target);
      }
      expect(admin.calls, 'requests that reached the admin routes').to.deep.equal([]);
      expect(await browser.scrape(`${other.url}/`), 'other allowed local ports stay reachable').to.deep.include({ status: 200, text: 'internal' });
    });

    it('refuses a redirect from an allowed page to a port that is not allowed, by address or by name', async () => {
      start();
      for (const target of [`${other.url}/secret`, `http://localhost:${otherPort}/secret`]) {
        const error = await failureOf(browser.scrape(`${site.url}/redirect?to=${encodeURIComponent(target)}`));
        expect(error, target).to.deep.include({ code: 'DEP_TARGET_FORBIDDEN', retriable: false });
        expect(error.message).to.include(target).and.include('loopback');
      }
      expect(other.calls, 'requests that reached the other service').to.deep.equal([]);
    });

    it("never sends an allowed page's script, iframe, fetch or image to a target that is not allowed", async () => {
      const embeds = (origin: string) => `${site.url}/embeds?target=${encodeURIComponent(origin)}`;
      // Control: with the other service allowed too, the page does make those requests.
      start({ allowHosts: [entry(site), entry(other)] });
      expect(await browser.scrape(embeds(other.url), { waitUntil: 'networkidle' })).to.deep.include({ status: 200, title: 'Embeds' });
      expect(other.calls.map((c) => c.path).sort()).to.deep.equal(['/fetch', '/frame', '/script']);
      await runtime!.stop();
      other.clearRecords();

      start();
      for (const origin of [other.url, `http://localhost:${otherPort}`]) {
        const result = await browser.scrape(embeds(origin), { waitUntil: 'networkidle' });
        expect(result, origin).to.deep.include({ status: 200, title: 'Embeds' });
      }
      expect(other.calls, 'requests that reached the other service').to.deep.equal([]);
    });

    it('judges the address a name resolves to, not the name: a name resolving to loopback is refused', async () => {
      const lookups: string[] = [];
      const resolve: Resolver = async (host) => {
        lookups.push(host);
        if (host === 'rebind.test') return ['127.0.0.1'];
        // A public address beside a loopback one: one forbidden address refuses the name, and nothing is connected.
        if (host === 'mixed.test') return ['93.184.216.34', '127.0.0.1'];
        if (host === 'pages.test') return ['127.0.0.1'];
        throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      };
      start({ allowHosts: [{ host: 'pages.test', port: Number(new URL(site.url).port) }] }, resolve);
      for (const host of ['rebind.test', 'mixed.test']) {
        const error = await failureOf(browser.scrape(`http://${host}:${otherPort}/`));
        expect(error, host).to.deep.include({ code: 'DEP_TARGET_FORBIDDEN', retriable: false });
        expect(error.message, host).to.include(`${host} resolves to 127.0.0.1`);
      }
      expect(other.calls).to.deep.equal([]);
      // An allow-listed name is connected to at the address the guard resolved.
      const pages = await browser.scrape(`http://pages.test:${new URL(site.url).port}/plain/3`);
      expect(pages).to.deep.include({ status: 200, title: 'Plain 3' });
      const unknown = await failureOf(browser.scrape(`http://nowhere.test:${otherPort}/`));
      expect(unknown).to.deep.include({ code: 'DEP_UNAVAILABLE', retriable: true });
      expect(unknown.message).to.include('ENOTFOUND');
      expect(lookups).to.include.members(['rebind.test', 'mixed.test', 'pages.test', 'nowhere.test']);
    });
  });

  describe('failure classification', () => {
    it('classifies a refused connection as DEP_UNAVAILABLE and a slow page as DEP_TIMEOUT, closing the page', async () => {
      start({ timeoutMs: 20_000, allowHosts: [{ host: '127.0.0.1' }] });
      const refused = await failureOf(browser.scrape(`http://127.0.0.1:${await closedPort()}/`));
      expect(refused).to.deep.include({ code: 'DEP_UNAVAILABLE', retriable: true });
      expect(refused.message).to.include('ECONNREFUSED');
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
