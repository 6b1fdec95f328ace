import { expect } from 'chai';
import { AckPolicy } from '@nats-io/jetstream';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { RunningService } from '../../src/service.js';
import { TestNats } from '../helpers/natsServer.js';
import { ScriptedOrders, only } from '../helpers/pipelines.js';
import { inspector, ORDER_BODY, postWebhook, startTestService } from '../helpers/service.js';
import { waitFor } from '../helpers/waitFor.js';

type Status = { status: string; seq: number; deliveries: number };

/** A webhook that finished is not processed again, and is counted done only once JetStream has its ack. */
describe('a finished webhook stays finished', function () {
  this.timeout(60_000);
  let nats: TestNats;
  let inspect: Awaited<ReturnType<typeof inspector>>;
  let service: RunningService | undefined;
  beforeEach(async () => {
    nats = await TestNats.start();
    inspect = await inspector(nats);
  });
  afterEach(async () => {
    await service?.stop(1000);
    service = undefined;
    await inspect.nc.close();
    await nats.dispose();
  });

  /** The value of `name`'s series with every label in `labels`; undefined when there is none. */
  const metric = async (url: string, name: string, labels: Record<string, string>) => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
    return line === undefined ? undefined : Number(line.split(' ').at(-1));
  };

  it('acks a redelivery whose status is done for the same sequence without running the pipeline again, and counts it', async () => {
    // Delivery 1 ran elsewhere: its result and `done` were stored, and its ack was lost.
    const edge = await startTestService(nats);
    const { json } = await postWebhook(edge.url, 'orders', ORDER_BODY, { 'webhook-id': 'finished-1' });
    await edge.stop(1000);
    const status = await new Kvm(inspect.nc).open('webhook-status');
    await status.put('orders.finished-1', JSON.stringify({ id: 'finished-1', source: 'orders', status: 'done', seq: json.seq, deliveries: 1, updatedAt: new Date().toISOString() }));
    const consumer = await jetstream(inspect.nc).consumers.get('WEBHOOKS', 'orders');
    const first = await consumer.next({ expires: 5000 });
    expect(first?.seq).to.equal(json.seq);
    first!.nak();

    const orders = new ScriptedOrders();
    service = await startTestService(nats, {}, { edge: true, processing: true }, only(orders));
    await waitFor('the redelivery acknowledged', async () => {
      const info = await inspect.jsm.consumers.info('WEBHOOKS', 'orders');
      return info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.stream_seq >= json.seq;
    });
    expect(orders.calls, 'the pipeline did not run again').to.deep.equal([]);
    expect((await status.get('orders.finished-1'))?.json<Status>()).to.include({ status: 'done', deliveries: 1 });
    expect(await metric(service.url, 'webhook_relay_duplicate_deliveries_skipped_total', { source: 'orders' })).to.equal(1);
    expect(await metric(service.url, 'webhook_relay_processing_outcomes_total', { source: 'orders', outcome: 'done' })).to.equal(0);
  });

  it('does not count a webhook done while JetStream has not confirmed its ack; its status is done all the same', async () => {
    const orders = new ScriptedOrders();
    let release!: () => void;
    orders.gates.set('unconfirmed', new Promise<void>((r) => (release = r)));
    service = await startTestService(nats, {}, { edge: true, processing: true }, only(orders));
    await postWebhook(service.url, 'orders', ORDER_BODY, { 'webhook-id': 'unconfirmed' });
    await waitFor('the pipeline running', () => orders.calls.length === 1);
    // The consumer goes away under the running delivery: nothing will answer its ack.
    await inspect.jsm.consumers.delete('WEBHOOKS', 'orders');
    await inspect.jsm.consumers.add('WEBHOOKS', { durable_name: 'orders-elsewhere', ack_policy: AckPolicy.Explicit, filter_subject: 'webhooks.nothing' });
    release();
    const status = await new Kvm(inspect.nc).open('webhook-status');
    await waitFor('done stored', async () => (await status.get('orders.unconfirmed'))?.json<Status>().status === 'done');
    await waitFor('the ack given up on', async () => (await metric(service!.url, 'webhook_relay_processing_outcomes_total', { source: 'orders', outcome: 'unconfirmed' })) === 1, { timeoutMs: 20_000 });
    expect(await metric(service.url, 'webhook_relay_processing_outcomes_total', { source: 'orders', outcome: 'done' })).to.equal(0);
  });
});
