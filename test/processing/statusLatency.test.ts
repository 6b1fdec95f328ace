import { expect } from 'chai';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, headers, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import type { Deps } from '../../src/dependencies/start.js';
import { SourceValidator } from '../../src/ingest/validator.js';
import { createLogger } from '../../src/log.js';
import { ProcessingEvents } from '../../src/processing/processingEvents.js';
import { WebhookMessageProcessor } from '../../src/processing/messageProcessor.js';
import { KvWriter } from '../../src/store/kvWriter.js';
import type { WebhookStatus } from '../../src/store/webhookStatus.js';
import { sources } from '../../src/sources/registry.js';
import { ensureWebhooksTopology, ensureBuckets } from '../../src/bus/topology.js';
import { TestNats } from '../helpers/natsServer.js';
import { ScriptedOrders } from '../helpers/pipelines.js';
import { waitFor } from '../helpers/waitFor.js';
import { WEBHOOKS_STREAM, WebhookHeaders } from '../../src/bus/names.js';
import { PublishAckMux } from '../../src/bus/ackMux.js';

/** Every KV write reaches the server `latencyMs` late, in the order issued (a slow link). */
class SlowKvWriter extends KvWriter {
  pending = 0;
  landed: WebhookStatus['status'][] = [];

  constructor(
    nc: NatsConnection,
    private readonly latencyMs: number,
  ) {
    super(nc);
  }

  override async put(bucket: string, key: string, value: unknown, h?: MsgHdrs): Promise<number> {
    this.pending++;
    try {
      await new Promise((r) => setTimeout(r, this.latencyMs));
      const revision = await super.put(bucket, key, value, h);
      if (bucket === 'webhook-status') this.landed.push((value as WebhookStatus).status);
      return revision;
    } finally {
      this.pending--;
    }
  }
}

describe('WebhookMessageProcessor with a slow status bucket', () => {
  let nats: TestNats;
  let nc: NatsConnection;

  before(async () => {
    nats = await TestNats.start();
    nc = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(nc);
    await ensureWebhooksTopology(jsm, { duplicateWindowMs: 60_000, maxBytes: -1, maxMsgs: -1, replicas: 1 }, new Map([['orders', { maxDeliver: 5, ackWaitMs: 5000, concurrency: 1 }]]));
    await ensureBuckets(nc, ['orders'], { statusTtlMs: 3_600_000, replicas: 1 });
  });

  after(async () => {
    await nc?.close();
    await nats?.dispose();
  });

  it('leaves a quick webhook done when its done write is still in flight as the slow timer fires', async () => {
    const js = jetstream(nc);
    const h = headers();
    h.set(WebhookHeaders.Id, 'slow-kv-1');
    await js.publish('webhooks.orders', JSON.stringify({ embeds: [{ description: 'Order Number\nSLOW-1' }] }), { headers: h });
    const msg = await (await js.consumers.get(WEBHOOKS_STREAM, 'orders')).next({ expires: 5000 });
    expect(msg, 'a delivery').to.not.equal(null);

    // 400 ms per write: `done` is issued at once and lands at ~400 ms; the 250 ms timer fires in between.
    const kv = new SlowKvWriter(nc, 400);
    const acks = new PublishAckMux(nc, 5000);
    const events = new ProcessingEvents();
    const acked: string[] = [];
    events.subscribe((e) => e.type === 'webhook.done' && acked.push(e.id));
    const processor = new WebhookMessageProcessor({
      js,
      kv,
      acks,
      validator: new SourceValidator(sources.values()),
      retry: { backoffMs: [1000], maxDeliver: 5 },
      events,
      log: createLogger('silent'),
    });
    await processor.process(msg!, new ScriptedOrders(), {} as Deps, new AbortController().signal);
    await waitFor('acknowledged and every status write settled', () => acked.length === 1 && kv.pending === 0);

    const entry = await (await new Kvm(nc).open('webhook-status')).get('orders.slow-kv-1');
    expect(entry?.json<WebhookStatus>().status).to.equal('done');
    expect(kv.landed.at(-1)).to.equal('done');
    kv.close();
    acks.close();
  });
});
