import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { freePort } from '../../src/nats/localServer.js';
import { TestNats } from '../helpers/natsServer.js';
import { ORDER_BODY, postWebhook } from '../helpers/service.js';
import { parsePrometheusText, sampleValue } from '../helpers/promText.js';
import { SseClient } from '../helpers/sseClient.js';
import { waitFor } from '../helpers/waitFor.js';
import { childEnv } from '../helpers/testEnv.js';

const main = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const order = (n: string) => ({ embeds: [{ ...ORDER_BODY.embeds[0]!, description: `Product\nThing\nPrice\n$1.00\nOrder Number\n${n}\nEmail\na@example.com` }] });

describe('operating view across edge processes (over NATS)', function () {
  this.timeout(60_000);
  let nats: TestNats;
  let child: ChildProcess;
  let output = '';
  let base: string;
  let sse: SseClient | undefined;

  before(async () => {
    nats = await TestNats.start();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = childEnv({ NATS_URL: nats.url, PORT: String(port), INGEST_WORKERS: '2', INSTANCE_ID: 'host-1', LOG_LEVEL: 'info' });
    child = spawn(process.execPath, ['--import', 'tsx', main], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    await waitFor('the service to be ready', async () => (await fetch(`${base}/ready`)).status === 200, { timeoutMs: 30_000 });
    await waitFor('the primary and both workers to have joined', async () => ((await (await fetch(`${base}/stats`)).json()) as any).covers.processes === 3, { timeoutMs: 30_000 });
  });

  after(async () => {
    sse?.close();
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    await nats?.dispose();
  });

  it('answers /stats, /actors and /metrics from a worker with the primary processing data and every worker ingest counters', async () => {
    expect((await postWebhook(base, 'orders', order('CL-1'), { 'webhook-id': 'cluster-1' })).status, output).to.equal(202);
    expect((await postWebhook(base, 'orders', { embeds: 'no' })).status).to.equal(422);
    const stats = await waitFor('the webhook processed', async () => {
      const s = (await (await fetch(`${base}/stats`)).json()) as any;
      return s.processed === 1 ? s : undefined;
    });
    expect(stats).to.include({ received: 2, published: 1, processed: 1, deadLettered: 0, instance: 'host-1' });
    // The primary and both workers are one instance.
    expect(stats.covers).to.deep.equal({ instances: ['host-1'], processes: 3, unanswered: [] });
    expect(stats.refused.byCode).to.deep.equal({ INGEST_SCHEMA_INVALID: 1 });
    // Round-robin spreads requests over both workers; each answers with the same totals.
    for (let i = 0; i < 4; i++) expect(((await (await fetch(`${base}/stats`)).json()) as any).received).to.equal(2);

    const actors = (await (await fetch(`${base}/actors`)).json()) as any;
    expect(actors.dependencies.map((d: any) => d.name)).to.include('audnex');

    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).to.equal('text/plain; version=0.0.4; charset=utf-8');
    const m = parsePrometheusText(await res.text());
    expect(sampleValue(m, 'webhook_relay_webhooks_received_total', { source: 'orders', instance_id: 'host-1' })).to.equal(2);
    expect(sampleValue(m, 'webhook_relay_webhooks_published_total', { source: 'orders' })).to.equal(1);
    expect(sampleValue(m, 'webhook_relay_processing_outcomes_total', { source: 'orders', outcome: 'done' })).to.equal(1);
    expect(sampleValue(m, 'webhook_relay_breaker_state', { dependency: 'audnex' })).to.equal(0);
    // Three processes (the primary and two workers) report CPU time; the sum is there once.
    expect(sampleValue(m, 'webhook_relay_process_cpu_user_seconds_total')).to.be.greaterThan(0);
    expect(m.types.get('webhook_relay_http_request_duration_seconds')).to.equal('histogram');
  });

  it('streams the primary live events through a worker', async () => {
    sse = await SseClient.connect(`${base}/events`);
    const first = await waitFor('the first snapshot', () => sse!.named('snapshot')[0]);
    expect(first.data.stats.processed).to.be.at.least(1);
    expect((await postWebhook(base, 'orders', order('CL-2'), { 'webhook-id': 'cluster-2' })).status).to.equal(202);
    const done = await waitFor('the done event', () => sse!.named('webhook').find((e) => e.data.id === 'cluster-2' && e.data.outcome === 'done'));
    expect(done.data.source).to.equal('orders');
  });

  it('names the instance and the process in every log line of the primary and the workers', () => {
    const lines = output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { instance?: string; pid?: number });
    expect(lines.length).to.be.greaterThan(3);
    for (const l of lines) expect(l.instance, JSON.stringify(l)).to.equal('host-1');
    expect(new Set(lines.map((l) => l.pid)).size).to.equal(3);
  });

  it('reports the NATS link of every process: per role, the ready ones against those the instance runs', async () => {
    const m = parsePrometheusText(await (await fetch(`${base}/metrics`)).text());
    expect(sampleValue(m, 'webhook_relay_processes', { role: 'primary' })).to.equal(1);
    expect(sampleValue(m, 'webhook_relay_processes', { role: 'edgeProcess' })).to.equal(2);
    expect(sampleValue(m, 'webhook_relay_nats_link_ready', { role: 'primary' })).to.equal(1);
    expect(sampleValue(m, 'webhook_relay_nats_link_ready', { role: 'edgeProcess' })).to.equal(2);
  });

  it('counts a process whose NATS link is down as not ready, while still counting the processes it runs', async function () {
    this.timeout(90_000);
    await nats.stop();
    try {
      // Without NATS the worker that answers sees only itself.
      const m = await waitFor('a scrape without NATS', async () => {
        const scraped = parsePrometheusText(await (await fetch(`${base}/metrics`)).text());
        return sampleValue(scraped, 'webhook_relay_nats_link_ready', { role: 'edgeProcess' }) === 0 ? scraped : undefined;
      }, { timeoutMs: 30_000 });
      expect(sampleValue(m, 'webhook_relay_nats_link_ready', { role: 'primary' })).to.equal(0);
      expect(sampleValue(m, 'webhook_relay_processes', { role: 'primary' })).to.equal(1);
      expect(sampleValue(m, 'webhook_relay_processes', { role: 'edgeProcess' })).to.equal(2);
    } finally {
      await nats.restart();
    }
    await waitFor('every link ready again', async () => {
      const m = parsePrometheusText(await (await fetch(`${base}/metrics`)).text());
      return sampleValue(m, 'webhook_relay_nats_link_ready', { role: 'edgeProcess' }) === 2 && sampleValue(m, 'webhook_relay_nats_link_ready', { role: 'primary' }) === 1;
    }, { timeoutMs: 60_000 });
  });

  it('still stops cleanly on SIGTERM', async () => {
    sse?.close();
    sse = undefined;
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code, output).to.equal(0);
  });
});
