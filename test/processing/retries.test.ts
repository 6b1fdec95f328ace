import { expect } from 'chai';
import type { NatsConnection } from '@nats-io/transport-node';
import type { JetStreamManager } from '@nats-io/jetstream';
import { TestNats } from '../helpers/natsServer.js';
import { inspector, postWebhook, startTestService } from '../helpers/service.js';
import { only, ScriptedOrders } from '../helpers/pipelines.js';
import { waitFor } from '../helpers/waitFor.js';
import type { RunningService } from '../../src/service.js';

const ADMIN = 'admin-token-for-tests-0123456789';
const body = (n: string) => ({ embeds: [{ description: `Order Number\n${n}` }] });
const env = { ADMIN_TOKEN: ADMIN, RETRY_BACKOFF: '50ms,100ms', MAX_DELIVER: '3' };

async function statusOf(service: RunningService, id: string): Promise<any> {
  const r = await fetch(`${service.url}/webhooks/orders/${id}`);
  return r.status === 200 ? r.json() : undefined;
}

function admin(service: RunningService, path: string, method = 'GET', token = ADMIN) {
  return fetch(`${service.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
}

describe('retries and dead letters', () => {
  let nats: TestNats;
  let service: RunningService;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let orders: ScriptedOrders;

  beforeEach(async () => {
    nats = await TestNats.start();
    orders = new ScriptedOrders();
    service = await startTestService(nats, env, { edge: true, processing: true }, only(orders));
    ({ nc, jsm } = await inspector(nats));
  });

  afterEach(async () => {
    await nc?.close();
    await service?.stop();
    await nats?.dispose();
  });

  it('retries a webhook whose handler fails twice and records its deliveries', async () => {
    orders.failuresLeft.set('flaky-1', 2);
    await postWebhook(service.url, 'orders', body('F1'), { 'webhook-id': 'flaky-1' });
    const s = await waitFor('done', async () => ((await statusOf(service, 'flaky-1'))?.status === 'done' ? statusOf(service, 'flaky-1') : undefined));
    expect(s.deliveries).to.equal(3);
    expect(orders.calls.filter((c) => c.id === 'flaky-1').map((c) => c.delivery)).to.deep.equal([1, 2, 3]);
    expect(s.result).to.include({ bucket: 'orders', key: 'flaky-1' });
  });

  it('dead-letters a webhook after MAX_DELIVER failed deliveries, through the MAX_DELIVERIES advisory', async () => {
    orders.alwaysFail.add('down-1');
    const res = await postWebhook(service.url, 'orders', body('D1'), { 'webhook-id': 'down-1' });
    const s = await waitFor('dead', async () => ((await statusOf(service, 'down-1'))?.status === 'dead' ? statusOf(service, 'down-1') : undefined), {
      timeoutMs: 20_000,
    });
    expect(s.deliveries).to.equal(3);
    expect(s.lastError.code).to.equal('TEST_DOWNSTREAM_DOWN');
    expect(orders.calls.filter((c) => c.id === 'down-1')).to.have.length(3);
    const dl = await jsm.streams.getMessage('DEAD_LETTERS', { last_by_subj: `dead.webhooks.orders.${res.json.seq}` });
    expect(dl!.header.get('Dlq-Reason')).to.equal('max_deliveries');
    expect(dl!.header.get('Dlq-Deliveries')).to.equal('3');
    expect(dl!.header.get('Dlq-Last-Error')).to.match(/^TEST_DOWNSTREAM_DOWN: scripted failure/);
    await waitFor('original removed from WEBHOOKS', async () => (await jsm.streams.info('WEBHOOKS')).state.messages === 0);
  });

  it('replays a dead letter through the admin route once the failure is fixed, and removes it from the queue', async () => {
    orders.permanent.add('perm-1');
    await postWebhook(service.url, 'orders', body('P1'), { 'webhook-id': 'perm-1' });
    await waitFor('dead', async () => (await statusOf(service, 'perm-1'))?.status === 'dead');

    const list = (await (await admin(service, '/dead-letters?source=orders')).json()) as any;
    expect(list.items).to.have.length(1);
    const item = list.items[0];
    expect(item).to.include({ source: 'orders', id: 'perm-1', reason: 'terminated', deliveries: 1, originalSubject: 'webhooks.orders' });
    const one = (await (await admin(service, `/dead-letters/${item.seq}`)).json()) as any;
    expect(one.body).to.deep.equal(body('P1'));

    orders.permanent.delete('perm-1');
    const replay = await admin(service, `/dead-letters/${item.seq}/replay`, 'POST');
    expect(replay.status).to.equal(200);
    await waitFor('done after replay', async () => (await statusOf(service, 'perm-1'))?.status === 'done');
    const after = (await (await admin(service, '/dead-letters')).json()) as any;
    expect(after.items).to.have.length(0);
    expect((await admin(service, `/dead-letters/${item.seq}`)).status).to.equal(404);
  });

  it('replays all dead letters of a source in bulk and deletes one', async () => {
    for (const id of ['bulk-a', 'bulk-b', 'bulk-c']) {
      orders.permanent.add(id);
      await postWebhook(service.url, 'orders', body(id), { 'webhook-id': id });
    }
    await waitFor('three dead letters', async () => ((await (await admin(service, '/dead-letters')).json()) as any).items.length === 3);
    const { items } = (await (await admin(service, '/dead-letters')).json()) as any;
    const del = await admin(service, `/dead-letters/${items[0].seq}`, 'DELETE');
    expect(del.status).to.equal(200);
    orders.permanent.clear();
    const res = (await (await admin(service, '/dead-letters/replay?source=orders', 'POST')).json()) as any;
    expect(res).to.deep.equal({ replayed: 2, failed: [] });
    await waitFor('replayed ones done', async () => (await statusOf(service, items[1].id))?.status === 'done' && (await statusOf(service, items[2].id))?.status === 'done');
    expect((await statusOf(service, items[0].id)).status).to.equal('dead');
  });

  it('refuses the admin routes without the right token', async () => {
    expect((await admin(service, '/dead-letters', 'GET', 'wrong-token-wrong-token')).status).to.equal(401);
    const none = await fetch(`${service.url}/dead-letters`);
    expect(none.status).to.equal(401);
    expect(((await none.json()) as any).error.code).to.equal('ADMIN_UNAUTHORIZED');
    expect((await admin(service, '/dead-letters?limit=0')).status).to.equal(400);
    expect((await admin(service, '/dead-letters?source=nope')).status).to.equal(400);
    expect((await admin(service, '/dead-letters/999999')).status).to.equal(404);
  });
});

describe('admin routes without ADMIN_TOKEN', () => {
  it('answer 403 with a clear message', async () => {
    const nats = await TestNats.start();
    const service = await startTestService(nats);
    try {
      const r = await fetch(`${service.url}/dead-letters`, { headers: { authorization: 'Bearer anything-at-all-123' } });
      expect(r.status).to.equal(403);
      const b = (await r.json()) as any;
      expect(b.error.code).to.equal('ADMIN_DISABLED');
      expect(b.error.message).to.contain('ADMIN_TOKEN');
    } finally {
      await service.stop();
      await nats.dispose();
    }
  });
});
