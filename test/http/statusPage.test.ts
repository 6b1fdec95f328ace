import { expect } from 'chai';
import { chromium, type Browser, type Page } from 'playwright';
import { TestNats } from '../helpers/natsServer.js';
import { postWebhook, startTestService } from '../helpers/service.js';
import { ScriptedOrders } from '../helpers/pipelines.js';
import { waitFor } from '../helpers/waitFor.js';
import { audnexStubEnv } from '../helpers/testEnv.js';
import { audnexLookups } from '../helpers/pipelines.js';
import type { SourceHandler } from '../../src/processing/handler.js';
import { PROJECT_HAIL_MARY, startAudnexStub } from '../stubs/audnex.js';
import type { StubServer } from '../stubs/stubServer.js';
import type { RunningService } from '../../src/service.js';

const ADMIN = 'admin-token-for-tests-0123456789';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** An `audiobooks` pipeline that asks Audnex for a book per webhook. */
const books = audnexLookups('audiobooks', PROJECT_HAIL_MARY.asin);

describe('status page (GET /) in Chromium', function () {
  this.timeout(60_000);
  let nats: TestNats;
  let stub: StubServer;
  let service: RunningService;
  let orders: ScriptedOrders;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  before(async () => {
    nats = await TestNats.start();
    stub = await startAudnexStub();
    orders = new ScriptedOrders();
    service = await startTestService(
      nats,
      audnexStubEnv(stub.url, { ADMIN_TOKEN: ADMIN, AUDNEX_BREAKER_COOLDOWN_MS: '1000', MAX_DELIVER: '2' }),
      { edge: true, processing: true },
      new Map<string, SourceHandler>([
        ['orders', orders],
        ['audiobooks', books],
      ]),
    );
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => {
      // The event stream is cut when the test ends; nothing else may fail.
      if (!r.url().endsWith('/events')) problems.push(`request failed: ${r.url()}`);
    });
  });

  after(async () => {
    await browser?.close();
    await service?.stop(1000);
    await stub?.close();
    await nats?.dispose();
  });

  it('loads with no console errors and shows the live state', async () => {
    const res = await page.goto(service.url);
    expect(res!.status()).to.equal(200);
    expect(res!.headers()['content-security-policy']).to.contain("script-src 'self'");
    await page.locator('#live[data-state="live"]').waitFor();
    await page.locator('[data-dep="audnex"][data-state="closed"]').waitFor();
    await page.locator('[data-source="orders"]').waitFor();
    expect(await page.locator('#overall').textContent()).to.equal('All systems normal');
    expect(await page.locator('#find-source option').allTextContents()).to.include.members(['orders', 'audiobooks', 'pages']);
    expect(problems).to.deep.equal([]);
  });

  it('turns a dependency card from closed to open when its stub fails, and back when it recovers', async () => {
    const card = page.locator('[data-dep="audnex"]');
    stub.setMode({ kind: 'status', status: 503 });
    for (let i = 0; i < 3; i++) await postWebhook(service.url, 'audiobooks', { asin: PROJECT_HAIL_MARY.asin }, { 'webhook-id': `book-${i}` });

    await page.locator('[data-dep="audnex"][data-state="open"]').waitFor({ timeout: 10_000 });
    expect(await card.locator('.badge').textContent()).to.equal('open');
    expect(await card.locator('.dep-reason').textContent()).to.match(/DEP_SERVER_ERROR/);
    expect(await page.locator('#overall').getAttribute('data-level')).to.equal('bad');
    expect(await page.locator('#overall').textContent()).to.contain('audnex');
    expect(await page.locator('#feed').textContent()).to.match(/audnex.*closed → open/);

    stub.setMode({ kind: 'ok' });
    // The half-open breaker closes on a successful probe, which needs a call: the first
    // webhooks may all be dead-lettered by then, so keep offering new ones (bounded).
    let probes = 0;
    await waitFor(
      'the audnex card to close',
      async () => {
        if ((await page.locator('[data-dep="audnex"]').getAttribute('data-state')) === 'closed') return true;
        await postWebhook(service.url, 'audiobooks', { asin: PROJECT_HAIL_MARY.asin }, { 'webhook-id': `book-probe-${probes++}` });
        return false;
      },
      { timeoutMs: 20_000, intervalMs: 500 },
    );
    // The retries of the outage still show as a warning for a few minutes; audnex itself is fine again.
    await waitFor('audnex gone from the header', async () => !(await page.locator('#overall').textContent())!.includes('audnex'));
    expect(problems).to.deep.equal([]);
  });

  it('replays a dead letter through its button once the admin token is given', async () => {
    const statusOf = async () => ((await (await fetch(`${service.url}/webhooks/orders/dl-1`)).json()) as any).status;
    orders.alwaysFail.add('dl-1');
    await postWebhook(service.url, 'orders', { embeds: [{ description: 'Order Number\nDL-1' }] }, { 'webhook-id': 'dl-1' });
    await waitFor('dl-1 dead', async () => (await statusOf()) === 'dead', { timeoutMs: 20_000 });
    orders.alwaysFail.delete('dl-1');

    await page.fill('#token-input', ADMIN);
    await page.click('#token-form button[type="submit"]');
    const row = page.locator('.dl', { hasText: 'orders/dl-1' });
    await row.waitFor();
    expect(await page.evaluate("sessionStorage.getItem('webhook-relay-admin-token')")).to.equal(ADMIN);
    expect(await row.locator('.dl-meta').textContent()).to.contain('max_deliveries');
    await row.locator('button[data-action="replay"]').click();

    await page.locator('#dl-message', { hasText: 'Replayed orders/dl-1' }).waitFor();
    await row.waitFor({ state: 'detached' });
    await waitFor('the replayed webhook done', async () => (await statusOf()) === 'done', { timeoutMs: 15_000 });

    // Its status is one click away, with the stored result since the token was given.
    await page.fill('#find-id', 'dl-1');
    await page.selectOption('#find-source', 'orders');
    await page.click('#find-form button[type="submit"]');
    await page.locator('#find-result .badge.done').waitFor();
    expect(await page.locator('#find-result pre').textContent()).to.contain('Order Number\\nDL-1');

    // Without the token the lookup shows the status only.
    await page.click('#token-forget');
    await page.click('#find-form button[type="submit"]');
    await page.locator('#find-result .note').waitFor();
    expect(await page.locator('#find-result .badge.done').count()).to.equal(1);
    expect(await page.locator('#find-result').textContent()).to.not.contain('Order Number');
    expect(await page.locator('#find-result pre').count()).to.equal(0);
    expect(problems).to.deep.equal([]);
  });

  it('names each dependency bucket with what it holds and its capacity', async () => {
    const foot = page.locator('[data-dep="audnex"] [data-bucket="calls"]');
    expect(await foot.textContent()).to.match(/^requests free [\d.]+ \/ 10$/);
  });

  it('keeps the token form shown when a list that was on its way arrives after the token was forgotten', async () => {
    await page.fill('#token-input', ADMIN);
    await page.click('#token-form button[type="submit"]');
    await page.locator('#dl-panel').waitFor();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let asked!: () => void;
    const seen = new Promise<void>((r) => (asked = r));
    await page.route('**/dead-letters?*', async (route) => {
      asked();
      await held;
      await route.continue();
    });
    try {
      const answered = page.waitForResponse((r) => r.url().includes('/dead-letters?'));
      await page.click('#dl-refresh');
      await seen;
      await page.click('#token-forget');
      release();
      await (await answered).finished();
      // Two turns of the page's event loop: the list's answer has been handled.
      await page.evaluate('new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)))');
      expect(await page.locator('#token-form').isVisible()).to.equal(true);
      expect(await page.locator('#dl-panel').isVisible()).to.equal(false);
    } finally {
      await page.unroute('**/dead-letters?*');
    }
  });

  it('says in the header that a dead letter waits, and labels the percentage', async () => {
    const id = `dl-phone-${'0123456789'.repeat(12)}`;
    orders.alwaysFail.add(id);
    await postWebhook(service.url, 'orders', { embeds: [{ description: 'Order Number\nDL-PHONE' }] }, { 'webhook-id': id });
    // The test before forgot the token: the list of dead letters needs it.
    await page.fill('#token-input', ADMIN);
    await page.click('#token-form button[type="submit"]');
    await page.locator('.dl', { hasText: id }).waitFor({ timeout: 20_000 });
    orders.alwaysFail.delete(id);

    const waiting = page.locator('#overall .problem', { hasText: /dead letters? waiting/ });
    await waiting.waitFor();
    expect(await page.locator('#overall').getAttribute('data-level')).to.equal('bad');
    expect(await page.locator('#overall').textContent()).to.not.contain('All systems normal');
    expect(await page.locator('#overall .problem', { hasText: /deliveries retried in the last 5 min/ }).count()).to.equal(1);
    expect(await page.locator('#k-success').locator('xpath=..').textContent()).to.match(/Not dead-lettered.*since start/);
    expect(problems).to.deep.equal([]);
  });

  it("shows a dead letter's whole error on a 375 px wide phone", async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    const row = page.locator('.dl', { hasText: 'dl-phone-' });
    const error = row.locator('.dl-error');
    await error.scrollIntoViewIfNeeded();
    const box = await error.evaluate((el) => ({
      text: el.textContent ?? '',
      scrollWidth: el.scrollWidth,
      clientWidth: el.clientWidth,
      right: el.getBoundingClientRect().right,
      pageWidth: el.ownerDocument.documentElement.scrollWidth,
    }));
    expect(box.text).to.contain(`scripted failure of dl-phone-${'0123456789'.repeat(12)}`);
    expect(box.scrollWidth).to.be.at.most(box.clientWidth);
    expect(box.right).to.be.at.most(375);
    expect(box.pageWidth).to.be.at.most(375);
    if (process.env.STATUS_PAGE_SCREENSHOTS) {
      const dir = process.env.STATUS_PAGE_SCREENSHOTS;
      await page.locator('header.top').screenshot({ path: `${dir}/phone-header.png` });
      await page.locator('.kpis').screenshot({ path: `${dir}/phone-kpis.png` });
      await page.locator('[data-dep="openai"]').screenshot({ path: `${dir}/phone-openai.png` });
      await row.screenshot({ path: `${dir}/phone-dead-letter.png` });
    }
  });
});
