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
    writer = new KvWriter(nc, 5000, buckets.status);
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

  describe('a status written over what is stored (another process may have written since)', () => {
    const at = (status: WebhookStatus['status'], seq: number, deliveries: number): WebhookStatus => ({ id: `over-${seq}`, source: 'orders', status, seq, deliveries, updatedAt: new Date(0).toISOString() });
    const stored = async (id: string) => (await readStatus(buckets.status, 'orders', id))?.status;

    it('never replaces done of the same sequence: not with processing, retrying or dead of a later delivery', async () => {
      await writer.putStatus(at('done', 11, 1));
      for (const next of [at('processing', 11, 2), at('retrying', 11, 2), at('dead', 11, 2)]) {
        expect(await writer.putStatusOver(next), next.status).to.equal(undefined);
      }
      expect(await stored('over-11')).to.equal('done');
    });

    it('replaces an earlier state, with or without the revision it expects, and returns the new revision', async () => {
      const queued = await writer.putStatusOver(at('queued', 12, 0));
      expect(queued).to.be.a('number');
      const processing = await writer.putStatusOver(at('processing', 12, 1), queued);
      expect(processing).to.be.greaterThan(queued!);
      // A stale revision: read, checked, written.
      expect(await writer.putStatusOver(at('done', 12, 1), queued)).to.be.greaterThan(processing!);
      expect(await stored('over-12')).to.equal('done');
    });

    it('lets a later sequence (a replay) replace a final state', async () => {
      await writer.putStatus({ ...at('dead', 13, 5) });
      expect(await writer.putStatusOver({ ...at('queued', 14, 0), id: 'over-13' })).to.be.a('number');
      expect(await stored('over-13')).to.equal('queued');
    });
  });

  it('rejects a put to a bucket that does not exist', async () => {
    let error: unknown;
    await writer.put('no-such-bucket', 'k', 1).catch((e: unknown) => (error = e));
    expect(error).to.have.nested.property('failure.kind', 'noResponders');
  });
});
