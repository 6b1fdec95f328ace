import { expect } from 'chai';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, headers, nanos, type NatsConnection } from '@nats-io/transport-node';
import { createLogger } from '../../src/log.js';
import { QueuedSweep, sweepIntervalMs } from '../../src/processing/queuedSweep.js';
import { KvWriter } from '../../src/store/kvWriter.js';
import { readStatus } from '../../src/store/webhookStatus.js';
import { TestNats } from '../helpers/natsServer.js';
import { ensureBuckets } from '../../src/bus/topology.js';
import { WEBHOOKS_STREAM, WebhookHeaders } from '../../src/bus/names.js';
import { findStoredWebhook } from '../../src/ingest/storedWebhook.js';
import type { RunningService } from '../../src/service.js';
import { ORDER_BODY, postWebhook, startTestService } from '../helpers/service.js';
import { waitFor } from '../helpers/waitFor.js';

const WINDOW_MS = 600_000;

describe('QueuedSweep', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let statusKv: KV;
  const received = new Map<string, string>();
  const seqs = new Map<string, number>();

  before(async () => {
    nats = await TestNats.start();
    nc = await connect({ servers: nats.url });
    jsm = await jetstreamManager(nc);
    await ensureBuckets(nc, ['orders'], { statusTtlMs: 3_600_000, replicas: 1 });
    statusKv = await new Kvm(nc).open('webhook-status');
    await jsm.streams.add({ name: WEBHOOKS_STREAM, subjects: ['webhooks.>'], retention: RetentionPolicy.Interest, storage: StorageType.File, duplicate_window: nanos(WINDOW_MS) });
    await jsm.consumers.add(WEBHOOKS_STREAM, { durable_name: 'orders', filter_subject: 'webhooks.orders', ack_policy: AckPolicy.Explicit });
    await jsm.consumers.add(WEBHOOKS_STREAM, { durable_name: 'pages', filter_subject: 'webhooks.pages', ack_policy: AckPolicy.Explicit });
    const js = jetstream(nc);
    for (const [source, id] of [['orders', 'w-1'], ['pages', 'p-1'], ['orders', 'w-2'], ['orders', 'w-3']] as const) {
      const h = headers();
      const at = new Date(Date.now() - 1000).toISOString();
      h.set(WebhookHeaders.Id, id);
      h.set(WebhookHeaders.ReceivedAt, at);
      received.set(id, at);
      seqs.set(id, (await js.publish(`webhooks.${source}`, '{}', { headers: h, msgID: id })).seq);
    }
    // Processing has recorded w-2 already.
    const kv = new KvWriter(nc);
    await kv.putStatus({ id: 'w-2', source: 'orders', status: 'processing', seq: seqs.get('w-2')!, deliveries: 1, updatedAt: new Date().toISOString() });
    kv.close();
  });

  after(async () => {
    await nc?.close();
    await nats?.dispose();
  });

  const sweepAt = (now: () => number) => new QueuedSweep({ jsm, statusKv, sources: ['orders', 'pages'], log: createLogger('silent'), now });
  /** A moment when webhooks stored a second ago are within two rounds of leaving the duplicate window. */
  const nearWindowEnd = () => Date.now() + WINDOW_MS - 2 * sweepIntervalMs(WINDOW_MS);

  it('leaves webhooks alone while the duplicate window still knows them', async () => {
    const { duplicateWindowMs, results } = await sweepAt(Date.now).sweep();
    expect(duplicateWindowMs).to.equal(WINDOW_MS);
    expect(results).to.deep.equal([
      { source: 'orders', looked: 0, recorded: 0 },
      { source: 'pages', looked: 0, recorded: 0 },
    ]);
    expect(await readStatus(statusKv, 'orders', 'w-1')).to.equal(undefined);
  });

  it('records queued for waiting webhooks near the window end, never over a status processing wrote, and looks at each once', async () => {
    const sweep = sweepAt(nearWindowEnd);
    const { results } = await sweep.sweep();
    expect(results).to.deep.equal([
      { source: 'orders', looked: 3, recorded: 2 },
      { source: 'pages', looked: 1, recorded: 1 },
    ]);
    expect(await readStatus(statusKv, 'orders', 'w-1')).to.deep.equal({ id: 'w-1', source: 'orders', status: 'queued', seq: seqs.get('w-1'), deliveries: 0, updatedAt: received.get('w-1') });
    expect(await readStatus(statusKv, 'pages', 'p-1')).to.include({ status: 'queued', seq: seqs.get('p-1') });
    expect(await readStatus(statusKv, 'orders', 'w-2')).to.include({ status: 'processing', deliveries: 1 });
    expect((await sweep.sweep()).results.map((r) => r.looked)).to.deep.equal([0, 0]);
  });

  it('after a restart, looks again but writes nothing over the statuses there are', async () => {
    const before = (await jsm.streams.info('KV_webhook-status')).state.last_seq;
    const { results } = await sweepAt(nearWindowEnd).sweep();
    expect(results).to.deep.equal([
      { source: 'orders', looked: 3, recorded: 0 },
      { source: 'pages', looked: 1, recorded: 0 },
    ]);
    expect((await jsm.streams.info('KV_webhook-status')).state.last_seq).to.equal(before);
  });

  it('starts past what the consumer has acknowledged', async () => {
    const batch = await (await jetstream(nc).consumers.get(WEBHOOKS_STREAM, 'orders')).fetch({ max_messages: 1, expires: 5000 });
    for await (const m of batch) await m.ackAck();
    const { results } = await sweepAt(nearWindowEnd).sweep();
    expect(results[0]).to.deep.equal({ source: 'orders', looked: 2, recorded: 0 });
  });

  it('runs a round every tenth of the window, between 250 ms and a minute', () => {
    expect(sweepIntervalMs(600_000)).to.equal(60_000);
    expect(sweepIntervalMs(7 * 24 * 3_600_000)).to.equal(60_000);
    expect(sweepIntervalMs(120_000)).to.equal(12_000);
    expect(sweepIntervalMs(1000)).to.equal(250);
  });
});

describe('a waiting webhook past the duplicate window', () => {
  let nats: TestNats;
  let service: RunningService;
  let nc: NatsConnection;

  before(async () => {
    nats = await TestNats.start();
    service = await startTestService(nats, { DUPLICATE_WINDOW: '1s' });
    nc = await connect({ servers: nats.url });
  });

  after(async () => {
    await nc?.close();
    await service?.stop();
    await nats?.dispose();
  });

  it('stays readable as queued after the stream forgets its delivery id, with the sweep running as processing runs it', async () => {
    const jsm = await jetstreamManager(nc);
    const sweep = new QueuedSweep({ jsm, statusKv: await new Kvm(nc).open('webhook-status'), sources: ['orders'], log: createLogger('silent') });
    const res = await postWebhook(service.url, 'orders', ORDER_BODY, { 'webhook-id': 'long-wait' });
    sweep.start();
    try {
      const answers: number[] = [];
      await waitFor(
        'the duplicate index to forget the id',
        async () => {
          const r = await fetch(`${service.url}/webhooks/orders/long-wait`);
          answers.push(r.status);
          if (r.status === 200) expect(await r.json()).to.include({ status: 'queued', seq: res.json.seq });
          return (await findStoredWebhook(jetstream(nc), jsm, 'orders', 'long-wait')) === undefined;
        },
        { timeoutMs: 15_000 },
      );
      const r = await fetch(`${service.url}/webhooks/orders/long-wait`);
      expect(r.status).to.equal(200);
      expect(await r.json()).to.include({ status: 'queued', seq: res.json.seq, deliveries: 0 });
      expect(answers.filter((s) => s !== 200)).to.deep.equal([]);
    } finally {
      await sweep.stop();
    }
  });
});
