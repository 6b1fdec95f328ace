import { expect } from 'chai';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { KvWriter } from '../../src/store/kvWriter.js';
import { readStatus, type WebhookStatus } from '../../src/store/webhookStatus.js';
import { TestNats } from '../helpers/natsServer.js';
import { ensureBuckets, type TopologyBuckets } from '../../src/bus/topology.js';

describe('KvWriter', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let buckets: TopologyBuckets;
  let writer: KvWriter;

  before(async () => {
    nats = await TestNats.start();
    nc = await connect({ servers: nats.url });
    buckets = await ensureBuckets(nc, ['orders'], { statusTtlMs: 60_000, replicas: 1 });
    writer = new KvWriter(nc);
  });

  after(async () => {
    writer?.close();
    await nc?.close();
    await nats?.dispose();
  });

  it('resolves a put once the bucket has stored the value', async () => {
    await writer.put('orders', 'TEST-1', { total: 99.99 });
    const e = await buckets.results.get('orders')!.get('TEST-1');
    expect(e?.json()).to.deep.equal({ total: 99.99 });
  });

  it('records a status under <source>.<id>, readable by readStatus', async () => {
    const s: WebhookStatus = { id: 'a b/c', source: 'orders', status: 'done', seq: 7, deliveries: 1, updatedAt: new Date(0).toISOString() };
    await writer.putStatus(s);
    expect(await readStatus(buckets.status, 'orders', 'a b/c')).to.deep.equal(s);
  });

  it('rejects a put to a bucket that does not exist', async () => {
    let error: unknown;
    await writer.put('no-such-bucket', 'k', 1).catch((e: unknown) => (error = e));
    expect(error).to.have.nested.property('failure.kind', 'noResponders');
  });
});
