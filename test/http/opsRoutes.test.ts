import { expect } from 'chai';
import { TestNats } from '../helpers/natsServer.js';
import { ORDER_BODY, postWebhook, startTestService } from '../helpers/service.js';
import { only, ScriptedOrders } from '../helpers/pipelines.js';
import { parsePrometheusText, sampleValue } from '../helpers/promText.js';
import { waitFor } from '../helpers/waitFor.js';
import type { RunningService } from '../../src/service.js';

const ADMIN = 'admin-token-for-tests-0123456789';
const body = (n: string) => ({ embeds: [{ description: `Order Number\n${n}` }] });

describe('operating view routes (/stats, /actors, /metrics)', () => {
  let nats: TestNats;
  let service: RunningService;
  let orders: ScriptedOrders;

  before(async function () {
    this.timeout(90_000);
    nats = await TestNats.start();
    orders = new ScriptedOrders();
    service = await startTestService(nats, { ADMIN_TOKEN: ADMIN, RETRY_BACKOFF: '50ms', MAX_DELIVER: '2' }, { edge: true, processing: true }, only(orders));

    // Known traffic: 10 webhooks; 3 fail once then succeed, 2 always fail (dead after
    // MAX_DELIVER = 2 deliveries); then 1 resend, 1 invalid body and 1 unknown source.
    for (const id of ['w-0', 'w-1', 'w-2']) orders.failuresLeft.set(id, 1);
    orders.alwaysFail.add('w-3').add('w-4');
    for (let i = 0; i < 10; i++) expect((await postWebhook(service.url, 'orders', body(`N${i}`), { 'webhook-id': `w-${i}` })).status).to.equal(202);
    expect((await postWebhook(service.url, 'orders', body('N6'), { 'webhook-id': 'w-6' })).json.duplicate).to.equal(true);
    expect((await postWebhook(service.url, 'orders', { embeds: 'nope' })).status).to.equal(422);
    expect((await postWebhook(service.url, 'nowhere', ORDER_BODY)).status).to.equal(404);
    await waitFor(
      'every webhook processed or dead-lettered',
      async () => {
        const s = (await (await fetch(`${service.url}/stats`)).json()) as any;
        return s.processed === 8 && s.deadLettered === 2 && s.deadLetters?.messages === 2 && s.stream?.messages === 0 && s.sources.orders.numPending === 0;
      },
      { timeoutMs: 60_000 },
    );
  });

  after(async () => {
    await service?.stop();
    await nats?.dispose();
  });

  it('counts the known traffic in /stats', async () => {
    const res = await fetch(`${service.url}/stats`);
    expect(res.status).to.equal(200);
    const s = (await res.json()) as any;
    expect(s).to.include({ received: 13, published: 10, duplicates: 1, processed: 8, failed: 7, retried: 5, deadLettered: 2, inFlight: 0, successRate: 0.8 });
    expect(s.refused).to.deep.equal({ total: 2, byCode: { INGEST_SCHEMA_INVALID: 1, INGEST_UNKNOWN_SOURCE: 1 } });
    // Exhausted webhooks may stay ack-pending in the consumer after the move; pending counts both.
    expect(s.sources.orders.pending).to.equal(s.sources.orders.numPending + s.sources.orders.numAckPending);
    expect(s.sources.orders).to.deep.include({ numPending: 0, received: 12, published: 10, processed: 8, failed: 7, retried: 5, deadLettered: 2, inFlight: 0 });
    expect(Object.keys(s.sources)).to.include.members(['orders', 'audiobooks', 'pages']);
    expect(s.stream).to.include({ messages: 0 });
    expect(s.deadLetters).to.include({ messages: 2 });
    expect(s.deadLetters.bytes).to.be.greaterThan(0);
    expect(s.avgProcessingMs).to.be.a('number').and.at.least(0);
    expect(s.p99ProcessingMs).to.be.a('number').and.at.least(0);
    expect(s.p99Window).to.equal(15);
    expect(s.uptimeS).to.be.a('number').and.at.least(0);
    expect(s.protection).to.include({ rateLimited: 0, connectionsRefused: 0, slowClientsClosed: 0, sseDropped: 0 });
    expect(s.nats).to.deep.equal({ ready: true, reason: 'connected' });
  });

  it('describes every dependency actor in /actors', async () => {
    const res = await fetch(`${service.url}/actors`);
    expect(res.status).to.equal(200);
    const view = (await res.json()) as any;
    expect(Date.parse(view.at)).to.be.closeTo(Date.now(), 60_000);
    const audnex = view.dependencies.find((d: any) => d.name === 'audnex');
    expect(audnex).to.include({ state: 'closed', activity: 'idle', queueLength: 0, inFlight: 0, restarts: 0 });
    expect(audnex.since).to.be.a('number');
    expect(audnex.reason).to.be.a('string').and.not.equal('');
    expect(audnex.counters).to.deep.equal({ ok: 0, failed: 0, rejected: 0 });
    expect(audnex.limits).to.have.keys('rate', 'burst', 'concurrency', 'maxQueue', 'timeoutMs');
    expect(audnex.tokens.calls).to.be.a('number');
    expect(audnex).to.include({ nextProbeAt: null, pausedUntil: null });
  });

  it('exports the same numbers as Prometheus text that parses', async () => {
    const res = await fetch(`${service.url}/metrics`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('text/plain; version=0.0.4; charset=utf-8');
    const m = parsePrometheusText(await res.text());
    const v = (name: string, labels: Record<string, string> = {}) => sampleValue(m, `webhook_relay_${name}`, labels);

    expect(v('webhooks_received_total', { source: 'orders' })).to.equal(12);
    expect(v('webhooks_received_total', { source: '_unknown' })).to.equal(1);
    expect(v('webhooks_published_total', { source: 'orders' })).to.equal(10);
    expect(v('webhooks_duplicate_total', { source: 'orders' })).to.equal(1);
    expect(v('webhooks_refused_total', { source: 'orders', code: 'INGEST_SCHEMA_INVALID' })).to.equal(1);
    expect(v('webhooks_refused_total', { source: '_unknown', code: 'INGEST_UNKNOWN_SOURCE' })).to.equal(1);
    expect(v('deliveries_total', { source: 'orders' })).to.equal(15);
    for (const [outcome, n] of [['done', 8], ['retrying', 5], ['exhausted', 2]] as const) {
      expect(v('processing_outcomes_total', { source: 'orders', outcome }), outcome).to.equal(n);
      expect(v('processing_duration_seconds_count', { source: 'orders', outcome }), outcome).to.equal(n);
      expect(v('processing_duration_seconds_bucket', { source: 'orders', outcome, le: '+Inf' }), outcome).to.equal(n);
    }
    expect(v('dead_lettered_total', { source: 'orders', reason: 'max_deliveries' })).to.equal(2);
    // Created at 0 at start, so its first dead letter is an increase Prometheus sees.
    expect(v('dead_lettered_total', { source: 'orders', reason: 'terminated' })).to.equal(0);
    expect(v('processing_in_flight', { source: 'orders' })).to.equal(0);
    const stats = (await (await fetch(`${service.url}/stats`)).json()) as any;
    expect(v('consumer_pending', { source: 'orders' })).to.equal(stats.sources.orders.pending);
    expect(v('stream_messages', { stream: 'DEAD_LETTERS' })).to.equal(2);
    expect(v('stream_messages', { stream: 'WEBHOOKS' })).to.equal(0);
    expect(v('breaker_state', { dependency: 'audnex' })).to.equal(0);
    expect(v('dependency_mailbox_depth', { dependency: 'audnex' })).to.equal(0);
    expect(v('http_request_duration_seconds_count', { method: 'POST', route: '/webhooks/:source', status: '202' })).to.equal(11);
    expect(v('http_request_duration_seconds_count', { method: 'POST', route: '/webhooks/:source', status: '422' })).to.equal(1);
    expect(v('ingest_rate_limited_total')).to.equal(0);
    expect(v('connections_refused_total')).to.equal(0);
    expect(m.types.get('webhook_relay_http_request_duration_seconds')).to.equal('histogram');
    expect(m.types.get('webhook_relay_breaker_state')).to.equal('gauge');
    expect(m.types.get('webhook_relay_dependency_call_duration_seconds')).to.equal('histogram');
    expect(m.types.get('webhook_relay_dependency_rate_limit_waits_total')).to.equal('counter');
    expect(v('process_cpu_user_seconds_total')).to.be.a('number');
    expect(m.samples.every((s) => s.name.startsWith('webhook_relay_'))).to.equal(true);
  });
});
