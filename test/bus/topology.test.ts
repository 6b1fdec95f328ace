import { expect } from 'chai';
import { AckPolicy, DiscardPolicy, RetentionPolicy, StorageType, jetstreamManager } from '@nats-io/jetstream';
import { connect, nanos } from '@nats-io/transport-node';
import { ensureStream } from '../../src/bus/ensure.js';
import { ensureWebhooksTopology, webhooksStreamConfig, type WebhooksStreamOptions } from '../../src/bus/topology.js';
import { useJetStream } from '../helpers/jetStreamFixture.js';
import { WEBHOOKS_STREAM } from '../../src/bus/names.js';

const LIMITS: WebhooksStreamOptions = { duplicateWindowMs: 120_000, maxBytes: 64 * 1024 * 1024, maxMsgs: -1, replicas: 1 };
const CONSUMERS = new Map([
  ['orders', { maxDeliver: 5, ackWaitMs: 5000, concurrency: 4 }],
  ['pages', { maxDeliver: 3, ackWaitMs: 5000, concurrency: 200 }],
]);

describe('stream topology (against nats-server)', () => {
  const server = useJetStream();
  let jsm: typeof server.jsm;

  before(() => {
    jsm = server.jsm;
  });
  afterEach(async () => {
    await jsm.streams.delete(WEBHOOKS_STREAM).catch(() => undefined);
  });

  it('creates WEBHOOKS with file storage, interest retention, discard new and the duplicate window', async () => {
    await ensureWebhooksTopology(jsm, LIMITS, CONSUMERS);
    const { config } = await jsm.streams.info(WEBHOOKS_STREAM);
    expect(config).to.deep.include({
      subjects: ['webhooks.>'],
      storage: StorageType.File,
      retention: RetentionPolicy.Interest,
      discard: DiscardPolicy.New,
      max_bytes: LIMITS.maxBytes,
      max_msgs: -1,
      duplicate_window: nanos(120_000),
      num_replicas: 1,
    });
  });

  it('creates one durable pull consumer per source, on its own subject', async () => {
    await ensureWebhooksTopology(jsm, LIMITS, CONSUMERS);
    const consumers = await jsm.consumers.list(WEBHOOKS_STREAM).next();
    expect(consumers.map((c) => c.name).sort()).to.deep.equal(['orders', 'pages']);
    const orders = consumers.find((c) => c.name === 'orders')!.config;
    expect(orders).to.deep.include({ durable_name: 'orders', filter_subject: 'webhooks.orders', ack_policy: AckPolicy.Explicit, max_deliver: 5, max_ack_pending: 1000 });
    expect(orders.deliver_subject, 'a pull consumer').to.equal(undefined);
    // Room for ten times the source's concurrency, and never less than 1000.
    expect(consumers.find((c) => c.name === 'pages')!.config.max_ack_pending).to.equal(2000);
  });

  it('updates the limits of an existing stream and consumers when run again', async () => {
    await ensureWebhooksTopology(jsm, LIMITS, CONSUMERS);
    await ensureWebhooksTopology(jsm, { ...LIMITS, maxMsgs: 10_000, maxBytes: 1024 * 1024 }, new Map([['orders', { maxDeliver: 9, ackWaitMs: 5000, concurrency: 4 }]]));
    const { config, state } = await jsm.streams.info(WEBHOOKS_STREAM);
    expect(config).to.deep.include({ max_msgs: 10_000, max_bytes: 1024 * 1024 });
    expect(state.consumer_count, 'consumers of other sources stay').to.equal(2);
    expect((await jsm.consumers.info(WEBHOOKS_STREAM, 'orders')).config.max_deliver).to.equal(9);
  });

  it('lets several instances ensure the topology at the same moment', async () => {
    const others = await Promise.all([1, 2, 3].map(() => connect({ servers: server.nats.url })));
    try {
      const managers = await Promise.all(others.map((c) => jetstreamManager(c)));
      await Promise.all(managers.map((m) => ensureWebhooksTopology(m, LIMITS, CONSUMERS)));
      expect((await jsm.streams.info(WEBHOOKS_STREAM)).state.consumer_count).to.equal(2);
    } finally {
      await Promise.all(others.map((c) => c.close()));
    }
  });

  it('creates the stream once when several instances race to create it, round after round', async () => {
    const others = await Promise.all(Array.from({ length: 12 }, () => connect({ servers: server.nats.url })));
    try {
      const managers = await Promise.all(others.map((c) => jetstreamManager(c)));
      // The losers of a race get "stream name already in use" or, as often, "subjects overlap": both mean it exists.
      for (let round = 0; round < 60; round++) {
        await jsm.streams.delete(WEBHOOKS_STREAM).catch(() => undefined);
        await Promise.all(managers.map((m) => ensureStream(m, webhooksStreamConfig(LIMITS))));
        expect((await jsm.streams.info(WEBHOOKS_STREAM)).config.subjects).to.deep.equal(['webhooks.>']);
      }
    } finally {
      await Promise.all(others.map((c) => c.close()));
    }
  });

  it('still refuses to create a stream whose subjects another stream holds', async () => {
    await jsm.streams.add({ name: 'OTHER', subjects: ['webhooks.>'] });
    try {
      let failure: unknown;
      await ensureStream(jsm, webhooksStreamConfig(LIMITS)).catch((e: unknown) => (failure = e));
      expect(String(failure)).to.match(/subjects overlap/);
    } finally {
      await jsm.streams.delete('OTHER');
    }
  });

  it('fails when an existing stream cannot take the config', async () => {
    await jsm.streams.add({ ...webhooksStreamConfig(LIMITS), retention: RetentionPolicy.Limits });
    let failure: unknown;
    await ensureStream(jsm, webhooksStreamConfig(LIMITS)).catch((e: unknown) => (failure = e));
    expect(failure, 'retention cannot change in place').to.be.instanceOf(Error);
    expect((await jsm.streams.info(WEBHOOKS_STREAM)).config.retention).to.equal(RetentionPolicy.Limits);
  });
});
