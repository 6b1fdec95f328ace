import { expect } from 'chai';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, type JetStreamManager } from '@nats-io/jetstream';
import { TestNats } from '../helpers/natsServer.js';
import { inspector, postWebhook, startTestService } from '../helpers/service.js';
import { audnexLookups, only, ScriptedOrders } from '../helpers/pipelines.js';
import { waitFor } from '../helpers/waitFor.js';
import { audnexStubEnv } from '../helpers/testEnv.js';
import { startAudnexStub, PROJECT_HAIL_MARY } from '../stubs/audnex.js';
import type { StubServer } from '../stubs/stubServer.js';
import type { RunningService } from '../../src/service.js';

const body = (n: string) => ({ embeds: [{ description: `Order Number\n${n}` }] });

async function statusOf(service: RunningService, id: string): Promise<any> {
  const r = await fetch(`${service.url}/webhooks/orders/${id}`);
  return r.status === 200 ? r.json() : undefined;
}

describe('processing resilience', () => {
  let nats: TestNats;
  let service: RunningService | undefined;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeEach(async () => {
    nats = await TestNats.start();
  });

  afterEach(async () => {
    await nc?.close();
    await service?.stop();
    service = undefined;
    await nats?.dispose();
  });

  it('dead-letters a webhook whose MAX_DELIVERIES advisory fired while the service was down', async () => {
    // A first start creates the streams, consumers and the ADVISORIES capture; then the service is gone.
    service = await startTestService(nats, { MAX_DELIVER: '2' });
    const res = await postWebhook(service.url, 'orders', body('GONE-1'), { 'webhook-id': 'while-down' });
    await service.stop();
    service = undefined;

    // Another process (here the test) exhausts its deliveries meanwhile.
    ({ nc, jsm } = await inspector(nats));
    const consumer = await jetstream(nc).consumers.get('WEBHOOKS', 'orders');
    for (let i = 0; i < 3; i++) {
      const m = await consumer.next({ expires: 1000 });
      m?.nak();
    }
    await waitFor('advisory captured', async () => (await jsm.streams.info('ADVISORIES')).state.messages >= 1);
    expect((await jsm.consumers.info('ADVISORIES', 'dead-letter-mover')).num_pending).to.be.greaterThan(0);

    service = await startTestService(nats, { MAX_DELIVER: '2' }, { edge: true, processing: true });
    const dl = await waitFor('dead letter written', () =>
      jsm.streams.getMessage('DEAD_LETTERS', { last_by_subj: `dead.webhooks.orders.${res.json.seq}` }).catch(() => null),
    );
    expect(dl.header.get('Dlq-Reason')).to.equal('max_deliveries');
    expect(dl.header.get('Webhook-Id')).to.equal('while-down');
    await waitFor('status dead', async () => (await statusOf(service!, 'while-down'))?.status === 'dead');
  });

  it('hands running webhooks back on shutdown so they are redelivered at once', async () => {
    const orders = new ScriptedOrders();
    let release!: () => void;
    orders.gates.set('slow-1', new Promise<void>((r) => (release = r)));
    service = await startTestService(nats, { SHUTDOWN_TIMEOUT_MS: '100' }, { edge: true, processing: true }, only(orders));
    await postWebhook(service.url, 'orders', body('S1'), { 'webhook-id': 'slow-1' });
    await waitFor('handler running', () => orders.calls.some((c) => c.id === 'slow-1'));
    await service.stop();
    service = undefined;
    release();

    const again = new ScriptedOrders();
    service = await startTestService(nats, {}, { edge: true, processing: true }, only(again));
    await waitFor('done after restart', async () => (await statusOf(service!, 'slow-1'))?.status === 'done');
    expect(again.calls.filter((c) => c.id === 'slow-1')).to.have.length(1);
  });

  describe('while a dependency is open', () => {
    let stub: StubServer;
    beforeEach(async () => {
      stub = await startAudnexStub();
    });
    afterEach(async () => {
      await stub.close();
    });

    it('stops pulling, spends no deliveries, and resumes when the breaker lets a probe through', async function () {
      this.timeout(30_000);
      const lookups = audnexLookups('orders', PROJECT_HAIL_MARY.asin);
      stub.setMode({ kind: 'status', status: 503 });
      service = await startTestService(
        nats,
        audnexStubEnv(stub.url, { AUDNEX_BREAKER_COOLDOWN_MS: '2500', MAX_DELIVER: '20', ORDERS_CONCURRENCY: '1' }),
        { edge: true, processing: true },
        only(lookups),
      );
      ({ nc, jsm } = await inspector(nats));
      for (let i = 0; i < 5; i++) await postWebhook(service.url, 'orders', body(`O${i}`), { 'webhook-id': `open-${i}` });

      const runtime = service.actors!.runtime;
      await waitFor('breaker open', () => runtime.status('audnex')!.state === 'open');
      const consumer = service.processor!.consumers[0]!;
      await waitFor('nothing in flight', () => consumer.inFlightCount === 0);
      const nextProbeAt = runtime.status('audnex')!.nextProbeAt!;
      const before = await jsm.consumers.info('WEBHOOKS', 'orders');
      const callsBefore = stub.calls.length;

      await waitFor('just before the probe', () => Date.now() >= nextProbeAt - 300, { timeoutMs: 5000 });
      const during = await jsm.consumers.info('WEBHOOKS', 'orders');
      expect(runtime.status('audnex')!.state).to.equal('open');
      expect(during.delivered.consumer_seq).to.equal(before.delivered.consumer_seq);
      expect(during.num_redelivered).to.equal(before.num_redelivered);
      expect(during.num_pending + during.num_ack_pending).to.equal(5);
      expect(stub.calls.length).to.equal(callsBefore);

      stub.setMode({ kind: 'ok' });
      for (let i = 0; i < 5; i++) {
        await waitFor(`open-${i} done`, async () => (await statusOf(service!, `open-${i}`))?.status === 'done', { timeoutMs: 15_000 });
      }
      expect(runtime.status('audnex')!.state).to.equal('closed');
    });
  });
});

