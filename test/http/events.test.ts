import { expect } from 'chai';
import { TestNats } from '../helpers/natsServer.js';
import { postWebhook, startTestService } from '../helpers/service.js';
import { parsePrometheusText, sampleValue } from '../helpers/promText.js';
import { SseClient } from '../helpers/sseClient.js';
import { waitFor } from '../helpers/waitFor.js';
import { audnexStubEnv } from '../helpers/testEnv.js';
import { audnexLookups } from '../helpers/pipelines.js';
import { PROJECT_HAIL_MARY, startAudnexStub } from '../stubs/audnex.js';
import type { StubServer } from '../stubs/stubServer.js';
import type { RunningService } from '../../src/service.js';

const body = (n: string) => ({ embeds: [{ description: `Order Number\n${n}` }] });

/** An `orders` pipeline that asks Audnex for a book per webhook. */
const lookups = audnexLookups('orders', PROJECT_HAIL_MARY.asin);

describe('GET /events (live feed)', () => {
  let nats: TestNats;
  let stub: StubServer;
  let service: RunningService;
  let sse: SseClient | undefined;

  beforeEach(async () => {
    nats = await TestNats.start();
    stub = await startAudnexStub();
    service = await startTestService(
      nats,
      audnexStubEnv(stub.url, { AUDNEX_BREAKER_COOLDOWN_MS: '1500', MAX_DELIVER: '50', ORDERS_CONCURRENCY: '1' }),
      { edge: true, processing: true },
      new Map([['orders', lookups]]),
    );
    // The actor starts once the lease is taken; its start is a transition of its own, not the one under test.
    await waitFor('the service to own audnex', () => service.ownership!.isOwner('audnex'), { timeoutMs: 20_000 });
  });

  afterEach(async () => {
    sse?.close();
    sse = undefined;
    await service?.stop();
    await stub?.close();
    await nats?.dispose();
  });

  it('starts with a snapshot, then delivers a breaker transition within a second of it happening', async function () {
    this.timeout(30_000);
    sse = await SseClient.connect(`${service.url}/events`);
    expect(sse.res.headers['content-type']).to.equal('text/event-stream; charset=utf-8');
    const first = await waitFor('the first snapshot', () => sse!.named('snapshot')[0]);
    expect(first.data.actors.dependencies.find((d: any) => d.name === 'audnex')).to.include({ state: 'closed' });
    expect(first.data.stats).to.include.keys('received', 'processed', 'sources');

    const transitions: { to: string; at: number }[] = [];
    service.actors!.runtime.subscribe((e) => {
      if (e.type === 'dep.transition') transitions.push({ to: e.to, at: Date.now() });
    });
    stub.setMode({ kind: 'status', status: 503 });
    for (let i = 0; i < 3; i++) await postWebhook(service.url, 'orders', body(`E${i}`), { 'webhook-id': `live-${i}` });

    const opened = await waitFor('an open transition on the feed', () => sse!.named('actor').find((e) => e.data.cause === 'transition' && e.data.to === 'open'));
    const happened = transitions.find((t) => t.to === 'open')!;
    expect(opened.receivedAt - happened.at).to.be.within(0, 1000);
    expect(opened.data).to.include({ dependency: 'audnex', from: 'closed' });
    expect(opened.data.reason).to.match(/DEP_SERVER_ERROR/);
    expect(opened.data.status).to.include({ name: 'audnex', state: 'open' });
    expect(opened.data.status.nextProbeAt).to.be.a('number');
    expect(sse.named('webhook').some((e) => e.data.outcome === 'retrying' && e.data.code === 'DEP_SERVER_ERROR')).to.equal(true);

    // Recovery shows on the feed too, and every webhook is reported done.
    stub.setMode({ kind: 'ok' });
    const closed = await waitFor(
      'the breaker closing again',
      () => sse!.named('actor').find((e) => e.data.cause === 'transition' && e.data.from === 'halfOpen' && e.data.to === 'closed'),
      { timeoutMs: 15_000 },
    );
    const reclosed = transitions.find((t) => t.to === 'closed')!;
    expect(closed.receivedAt - reclosed.at).to.be.within(0, 1000);
    await waitFor('three webhooks done on the feed', () => new Set(sse!.named('webhook').filter((e) => e.data.outcome === 'done').map((e) => e.data.id)).size === 3, {
      timeoutMs: 15_000,
    });

    const metrics = parsePrometheusText(await (await fetch(`${service.url}/metrics`)).text());
    expect(sampleValue(metrics, 'webhook_relay_breaker_transitions_total', { dependency: 'audnex', from: 'closed', to: 'open' })).to.be.at.least(1);
    expect(sampleValue(metrics, 'webhook_relay_breaker_state', { dependency: 'audnex' })).to.equal(0);
    expect(sampleValue(metrics, 'webhook_relay_dependency_call_duration_seconds_count', { dependency: 'audnex', outcome: 'failed', code: 'DEP_SERVER_ERROR' })).to.be.at.least(2);
    expect(sampleValue(metrics, 'webhook_relay_dependency_call_duration_seconds_count', { dependency: 'audnex', outcome: 'ok', code: '' })).to.be.at.least(3);
    expect(sampleValue(metrics, 'webhook_relay_sse_clients')).to.equal(1);
  });

  it('sends snapshots while a client listens and stops when it leaves', async function () {
    this.timeout(20_000);
    sse = await SseClient.connect(`${service.url}/events`);
    await waitFor('two snapshots', () => sse!.named('snapshot').length >= 2, { timeoutMs: 6000 });
    const stats = (await (await fetch(`${service.url}/stats`)).json()) as any;
    expect(stats.protection.sseClients).to.equal(1);
    sse.close();
    sse = undefined;
    await waitFor('no client left', async () => ((await (await fetch(`${service.url}/stats`)).json()) as any).protection.sseClients === 0);
  });
});
