import { expect } from 'chai';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { createLogger } from '../../src/log.js';
import { AckFloorReconciler } from '../../src/processing/reconciler.js';
import { KvWriter } from '../../src/store/kvWriter.js';
import { TestNats } from '../helpers/natsServer.js';
import { ensureBuckets } from '../../src/bus/topology.js';
import { WEBHOOKS_STREAM, WebhookHeaders } from '../../src/bus/names.js';

describe('AckFloorReconciler', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  before(async () => {
    nats = await TestNats.start();
    nc = await connect({ servers: nats.url });
    jsm = await jetstreamManager(nc);
    await ensureBuckets(nc, ['orders'], { statusTtlMs: 3_600_000, replicas: 1 });
  });

  after(async () => {
    await nc?.close();
    await nats?.dispose();
  });

  it('removes acknowledged webhooks still stored, and keeps unacknowledged ones and those awaiting their dead-letter move', async () => {
    // Limits retention keeps acknowledged messages, as WEBHOOKS does for some after nats-server 2.9 is killed.
    await jsm.streams.add({ name: WEBHOOKS_STREAM, subjects: ['webhooks.>'], retention: RetentionPolicy.Limits, storage: StorageType.File });
    await jsm.consumers.add(WEBHOOKS_STREAM, { durable_name: 'orders', filter_subject: 'webhooks.orders', ack_policy: AckPolicy.Explicit, max_ack_pending: 100 });
    const js = jetstream(nc);
    for (let n = 1; n <= 10; n++) {
      const h = headers();
      h.set(WebhookHeaders.Id, `r-${n}`);
      await js.publish('webhooks.orders', '{}', { headers: h });
      await js.publish('webhooks.audiobooks', '{}');
    }
    // Orders 1–6 acknowledged (ack floor just below the 7th), 7–10 delivered but not acknowledged.
    const consumer = await js.consumers.get(WEBHOOKS_STREAM, 'orders');
    const batch = await consumer.fetch({ max_messages: 10, expires: 5000 });
    const seqs: number[] = [];
    for await (const m of batch) {
      seqs.push(m.seq);
      if (seqs.length <= 6) await m.ackAck();
    }
    expect(seqs).to.have.length(10);
    // Order 3 ran out of deliveries: its status is still `retrying` until the mover copies it.
    const kv = new KvWriter(nc);
    await kv.putStatus({ id: 'r-3', source: 'orders', status: 'retrying', seq: seqs[2]!, deliveries: 5, updatedAt: new Date().toISOString() });
    await kv.putStatus({ id: 'r-4', source: 'orders', status: 'done', seq: seqs[3]!, deliveries: 1, updatedAt: new Date().toISOString() });
    kv.close();

    const reconciler = new AckFloorReconciler({
      jsm,
      statusKv: await new Kvm(nc).open('webhook-status'),
      sources: ['orders', 'pages'],
      intervalMs: 60_000,
      log: createLogger('silent'),
    });
    const [orders, pages] = await reconciler.reconcile();
    // The floor is the sequence just below the first unacknowledged order.
    expect(orders).to.deep.include({ source: 'orders', ackFloor: seqs[6]! - 1, removed: 5, kept: 1 });
    expect(pages).to.deep.include({ source: 'pages', ackFloor: 0, removed: 0, kept: 0 });

    const left: number[] = [];
    for (const s of seqs) if (await jsm.streams.getMessage(WEBHOOKS_STREAM, { seq: s }).catch(() => undefined)) left.push(s);
    expect(left).to.deep.equal([seqs[2], ...seqs.slice(6)]);
    // Other subjects are not touched.
    expect((await jsm.streams.info(WEBHOOKS_STREAM, { subjects_filter: 'webhooks.audiobooks' })).state.subjects).to.deep.equal({ 'webhooks.audiobooks': 10 });
    expect((await reconciler.reconcile())[0]).to.deep.include({ removed: 0, kept: 1 });
  });
});
