import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { freePort } from '../../src/nats/localServer.js';
import type { RunningService } from '../../src/service.js';
import { startDaemon, type Daemon } from '../helpers/daemon.js';
import { TestNats } from '../helpers/natsServer.js';
import { audnexLookups, ScriptedOrders } from '../helpers/pipelines.js';
import { parsePrometheusText, sampleValue, type PromExposition } from '../helpers/promText.js';
import { ALERTS_FILE, alertRules, dashboardExpressions, familyOf, metricNames } from '../helpers/promql.js';
import { postWebhook, startTestService } from '../helpers/service.js';
import { waitFor } from '../helpers/waitFor.js';
import { PROJECT_HAIL_MARY, startAudnexStub } from '../stubs/audnex.js';
import type { StubServer } from '../stubs/stubServer.js';

/** Metric names Prometheus makes itself, or scrapes from the blackbox exporter's NATS probes, rather than from the service. */
const NOT_FROM_THE_SERVICE = new Set(['up', 'probe_success']);

async function scrape(service: RunningService): Promise<PromExposition> {
  const res = await fetch(`${service.url}/metrics`);
  expect(res.status).to.equal(200);
  return parsePrometheusText(await res.text());
}

describe('monitoring files against a running service', () => {
  let nats: TestNats;
  let audnex: StubServer;
  let service: RunningService;
  let release: () => void;

  before(async function () {
    this.timeout(90_000);
    nats = await TestNats.start();
    audnex = await startAudnexStub();
    // orders holds one webhook until released (a waiting webhook); audiobooks calls Audnex.
    const orders = new ScriptedOrders();
    orders.gates.set('held', new Promise<void>((r) => (release = r)));
    const pipelines = new Map([
      ['orders', orders],
      ['audiobooks', audnexLookups('audiobooks', PROJECT_HAIL_MARY.asin)],
    ]);
    service = await startTestService(nats, { AUDNEX_URL: audnex.url }, { edge: true, processing: true }, pipelines);
    expect((await postWebhook(service.url, 'audiobooks', { asin: PROJECT_HAIL_MARY.asin }, { 'webhook-id': 'book-1' })).status).to.equal(202);
    expect((await postWebhook(service.url, 'orders', { embeds: [{ description: 'Order Number\nH-1' }] }, { 'webhook-id': 'held' })).status).to.equal(202);
    expect((await postWebhook(service.url, 'orders', { embeds: 'not a list' })).status).to.equal(422);
    await waitFor('the Audnex call recorded', async () => sampleValue(await scrape(service), 'webhook_relay_dependency_call_duration_seconds_count', { dependency: 'audnex', outcome: 'ok' }));
  });

  after(async () => {
    release?.();
    await service?.stop();
    await audnex?.close();
    await nats?.dispose();
  });

  it('exports every metric the alerting rules and the dashboard use', async () => {
    const { types } = await scrape(service);
    const used = new Set([...alertRules().map((r) => r.expr), ...dashboardExpressions()].flatMap(metricNames));
    // The extraction found the names (a broken extractor would pass vacuously).
    expect([...used]).to.include.members([
      'up',
      'webhook_relay_breaker_state',
      'webhook_relay_http_request_duration_seconds_count',
      'webhook_relay_dependency_call_duration_seconds_bucket',
      'webhook_relay_consumer_oldest_waiting_seconds',
    ]);
    const missing = [...used].filter((name) => !NOT_FROM_THE_SERVICE.has(name) && familyOf(name, types) === undefined);
    expect(missing, 'used by deploy/ but not exported by /metrics').to.deep.equal([]);
  });

  it('exports every source\'s dead-letter and delivery counters at 0 from the start, so the first one is an increase', async () => {
    const m = await scrape(service);
    for (const source of ['orders', 'audiobooks', 'pages']) {
      for (const reason of ['max_deliveries', 'terminated']) {
        expect(sampleValue(m, 'webhook_relay_dead_lettered_total', { source, reason }), `${source} ${reason}`).to.equal(0);
      }
    }
    // pages received nothing: its deliveries counter is there all the same.
    expect(sampleValue(m, 'webhook_relay_deliveries_total', { source: 'pages' })).to.equal(0);
  });

  it('reports which dependency leases this instance holds, its NATS link and its stream limits', async () => {
    const m = await waitFor('the Audnex lease held', async () => {
      const scraped = await scrape(service);
      return sampleValue(scraped, 'webhook_relay_dependency_owner', { dependency: 'audnex' }) === 1 ? scraped : undefined;
    });
    // The browser is per instance (BROWSER_SCOPE=instance): nobody owns it across the cluster.
    expect(m.samples.filter((s) => s.name === 'webhook_relay_dependency_owner').map((s) => s.labels.dependency)).to.have.members(['audnex', 'mam', 'openai', 'botpress']);
    expect(sampleValue(m, 'webhook_relay_nats_link_ready', { role: 'primary' })).to.equal(1);
    expect(sampleValue(m, 'webhook_relay_processes', { role: 'primary' })).to.equal(1);
    expect(sampleValue(m, 'webhook_relay_processes', { role: 'edgeProcess' })).to.equal(0);
    expect(sampleValue(m, 'webhook_relay_stream_max_bytes', { stream: 'WEBHOOKS' })).to.equal(1024 ** 3);
    expect(sampleValue(m, 'webhook_relay_stream_max_messages', { stream: 'WEBHOOKS' })).to.equal(-1);
    expect(sampleValue(m, 'webhook_relay_stream_bytes', { stream: 'WEBHOOKS' })).to.be.greaterThan(0);
  });

  it('reports the age of the oldest waiting webhook per source, 0 once none waits', async () => {
    const held = await waitFor('the held order to age', async () => {
      const age = sampleValue(await scrape(service), 'webhook_relay_consumer_oldest_waiting_seconds', { source: 'orders' });
      return age !== undefined && age > 0.2 ? age : undefined;
    });
    expect(held).to.be.below(60);
    // The audiobooks webhook is done (its Audnex call was recorded); the gauge follows at the next sample.
    await waitFor('nothing waiting in audiobooks', async () => sampleValue(await scrape(service), 'webhook_relay_consumer_oldest_waiting_seconds', { source: 'audiobooks' }) === 0);
    release();
    await waitFor('nothing waiting in orders', async () => sampleValue(await scrape(service), 'webhook_relay_consumer_oldest_waiting_seconds', { source: 'orders' }) === 0);
  });

  describe('scraped by a real Prometheus', () => {
    let dir: string;
    let prometheus: Daemon | undefined;
    let api: string;

    before(async function () {
      this.timeout(60_000);
      dir = await mkdtemp(join(tmpdir(), 'webhook-relay-prometheus-'));
      const config = join(dir, 'prometheus.yml');
      const target = new URL(service.url).host;
      await writeFile(
        config,
        [
          'global: { scrape_interval: 1s, evaluation_interval: 1s }',
          `rule_files: [${JSON.stringify(ALERTS_FILE)}]`,
          'scrape_configs:',
          '  - job_name: webhook-relay',
          `    static_configs: [{ targets: [${JSON.stringify(target)}] }]`,
          '',
        ].join('\n'),
      );
      const port = await freePort();
      api = `http://127.0.0.1:${port}/api/v1`;
      prometheus = await startDaemon(
        '/usr/bin/prometheus',
        [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
        `http://127.0.0.1:${port}/-/ready`,
      );
    });

    after(async () => {
      await prometheus?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('scrapes the service: the target is up', async function () {
      this.timeout(40_000);
      const target = await waitFor(
        'the webhook-relay target up',
        async () => {
          const body = (await (await fetch(`${api}/targets`)).json()) as any;
          return body.data.activeTargets.find((t: any) => t.labels.job === 'webhook-relay' && t.health === 'up');
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      ).catch((e: Error) => Promise.reject(new Error(`${e.message}\nprometheus log: ${prometheus!.log()}`)));
      expect(target.scrapeUrl).to.equal(`${service.url}/metrics`);
    });

    it('holds the series the rules use', async function () {
      this.timeout(40_000);
      const query = async (q: string) => {
        const body = (await (await fetch(`${api}/query?query=${encodeURIComponent(q)}`)).json()) as any;
        expect(body.status).to.equal('success');
        return body.data.result as { metric: Record<string, string>; value: [number, string] }[];
      };
      const breakers = await waitFor('breaker_state in Prometheus', async () => {
        const r = await query('webhook_relay_breaker_state');
        return r.length > 0 ? r : undefined;
      }, { timeoutMs: 30_000, intervalMs: 200 });
      expect(breakers.map((s) => s.metric.dependency)).to.include('audnex');
      expect(breakers.find((s) => s.metric.dependency === 'audnex')!.value[1]).to.equal('0');
      const pending = await query('webhook_relay_consumer_pending{job="webhook-relay"}');
      expect(pending.map((s) => s.metric.source)).to.include.members(['orders', 'audiobooks', 'pages']);
      expect((await query('up{job="webhook-relay"}'))[0]!.value[1]).to.equal('1');
    });

    it('loads every alerting rule and evaluates it without error', async function () {
      this.timeout(40_000);
      const names = alertRules().map((r) => r.alert);
      const rules = await waitFor('rules evaluated', async () => {
        const body = (await (await fetch(`${api}/rules?type=alert`)).json()) as any;
        const all = body.data.groups.flatMap((g: any) => g.rules) as { name: string; health: string; lastError?: string }[];
        return all.length === names.length && all.every((r) => r.health !== 'unknown') ? all : undefined;
      }, { timeoutMs: 30_000, intervalMs: 200 });
      expect(rules.map((r) => r.name)).to.have.members(names);
      for (const r of rules) expect(r.health, `${r.name}: ${r.lastError}`).to.equal('ok');
    });
  });
});
