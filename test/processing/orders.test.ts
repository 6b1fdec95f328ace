import { expect } from 'chai';
import type { NatsConnection } from '@nats-io/transport-node';
import type { JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { TestNats } from '../helpers/natsServer.js';
import { inspector, postWebhook, startTestService } from '../helpers/service.js';
import { waitFor } from '../helpers/waitFor.js';
import type { RunningService } from '../../src/service.js';

const ADMIN = 'admin-token-for-tests-0123456789';
const order = (n: string, extra = '') => ({
  embeds: [{ author: { name: `Order ${n}` }, description: `Product\nWidget ${n}\nPrice\n$1,299.95\nOrder Number\n${n}\nEmail\nBuyer${n}@Example.com${extra}` }],
});

describe('orders pipeline', () => {
  let nats: TestNats;
  let service: RunningService;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  before(async () => {
    nats = await TestNats.start();
    service = await startTestService(nats, { ADMIN_TOKEN: ADMIN }, { edge: true, processing: true });
    ({ nc, jsm } = await inspector(nats));
  });

  after(async () => {
    await nc?.close();
    await service?.stop();
    await nats?.dispose();
  });

  it('stores a parsed order by order number and reports the webhook done', async () => {
    const res = await postWebhook(service.url, 'orders', order('TEST-1'), { 'webhook-id': 'order-test-1' });
    expect(res.status).to.equal(202);
    const status = await waitFor('status done', async () => {
      const r = await fetch(`${service.url}/webhooks/orders/order-test-1`, { headers: { authorization: `Bearer ${ADMIN}` } });
      const body = (await r.json()) as any;
      return body.status === 'done' ? body : undefined;
    });
    expect(status).to.include({ id: 'order-test-1', source: 'orders', deliveries: 1 });
    expect(status.result).to.include({ bucket: 'orders', key: 'TEST-1' });
    expect(status.result.value).to.include({ orderNumber: 'TEST-1', product: 'Widget TEST-1', email: 'buyertest-1@example.com', webhookId: 'order-test-1' });
    expect(status.result.value.price).to.deep.equal({ amountMinor: 129995, currency: 'USD' });

    const kv = await new Kvm(nc).open('orders');
    const entry = await kv.get('TEST-1');
    expect(entry?.json<{ orderNumber: string }>().orderNumber).to.equal('TEST-1');
  });

  it('shows the stored order only with the admin token: without it the status fields alone, with a wrong one 401', async () => {
    await postWebhook(service.url, 'orders', order('PRIV-1'), { 'webhook-id': 'order-private' });
    const url = `${service.url}/webhooks/orders/order-private`;
    const admin = await waitFor('status done', async () => {
      const body = (await (await fetch(url, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as any;
      return body.status === 'done' ? body : undefined;
    });
    expect(admin.result.value).to.include({ email: 'buyerpriv-1@example.com', label: 'Order PRIV-1' });

    const anonymous = await fetch(url);
    expect(anonymous.status).to.equal(200);
    const text = await anonymous.text();
    expect(text).to.not.include('buyerpriv-1@example.com').and.not.include('Order PRIV-1').and.not.include('129995');
    const body = JSON.parse(text);
    expect(body).to.include({ id: 'order-private', source: 'orders', status: 'done', deliveries: 1 });
    expect(body).to.have.property('seq').that.is.a('number');
    expect(body).to.have.property('updatedAt').that.is.a('string');
    expect(body.result).to.deep.equal({ bucket: 'orders', key: 'PRIV-1' });
    expect(anonymous.headers.get('vary')).to.equal('Authorization');

    for (const authorization of ['Bearer wrong-token-0123456789abcdef', 'Basic YWRtaW46YWRtaW4=']) {
      const refused = await fetch(url, { headers: { authorization } });
      expect(refused.status, authorization).to.equal(401);
      expect(((await refused.json()) as any).error.code).to.equal('ADMIN_UNAUTHORIZED');
    }
  });

  it('answers 404 for an unknown webhook id', async () => {
    const r = await fetch(`${service.url}/webhooks/orders/never-sent`);
    expect(r.status).to.equal(404);
    expect(((await r.json()) as any).error.code).to.equal('WEBHOOK_NOT_FOUND');
  });

  it('processes 1,000 concurrent orders into 1,000 stored orders, all done', async function () {
    this.timeout(60_000);
    const ids = Array.from({ length: 1000 }, (_, i) => `bulk-${i}`);
    const results = await Promise.all(ids.map((id) => postWebhook(service.url, 'orders', order(`B-${id}`), { 'webhook-id': id })));
    expect(results.every((r) => r.status === 202)).to.equal(true);
    const kv = await new Kvm(nc).open('orders');
    await waitFor('1,000 bulk orders stored', async () => {
      let n = 0;
      for await (const k of await kv.keys()) if (k.startsWith('B-bulk-')) n++;
      return n === 1000;
    }, { timeoutMs: 30_000 });
    const statusKv = await new Kvm(nc).open('webhook-status');
    for (const id of ids) {
      const s = await statusKv.get(`orders.${id}`);
      expect(s?.json<{ status: string }>().status, id).to.equal('done');
    }
    await waitFor('WEBHOOKS drained', async () => (await jsm.streams.info('WEBHOOKS')).state.messages === 0);
  });

  it('dead-letters an order without an order number at once, with reason and last error', async () => {
    const res = await postWebhook(service.url, 'orders', { embeds: [{ description: 'Product\nNo number here' }] }, { 'webhook-id': 'no-number' });
    expect(res.status).to.equal(202);
    const status = await waitFor('status dead', async () => {
      const body = (await (await fetch(`${service.url}/webhooks/orders/no-number`)).json()) as any;
      return body.status === 'dead' ? body : undefined;
    });
    expect(status.deliveries).to.equal(1);
    // Without the admin token the last error shows its code, not its message (which may quote the payload).
    expect(status.lastError).to.deep.equal({ code: 'PROCESSING_UNPROCESSABLE', retriable: false });
    const dl = await jsm.streams.getMessage('DEAD_LETTERS', { last_by_subj: `dead.webhooks.orders.${res.json.seq}` });
    expect(dl!.header.get('Dlq-Reason')).to.equal('terminated');
    expect(dl!.header.get('Dlq-Original-Subject')).to.equal('webhooks.orders');
    expect(dl!.header.get('Dlq-Original-Seq')).to.equal(String(res.json.seq));
    expect(dl!.header.get('Dlq-Deliveries')).to.equal('1');
    expect(dl!.header.get('Dlq-Last-Error')).to.match(/^PROCESSING_UNPROCESSABLE: /);
    expect(Date.parse(dl!.header.get('Dlq-Failed-At'))).to.be.closeTo(Date.now(), 60_000);
    expect(dl!.header.get('Webhook-Id')).to.equal('no-number');
    expect(JSON.parse(dl!.string())).to.deep.equal({ embeds: [{ description: 'Product\nNo number here' }] });
    // Terminated for good: not pending acknowledgement, not kept in WEBHOOKS.
    await waitFor('terminated and removed', async () => {
      const c = await jsm.consumers.info('WEBHOOKS', 'orders');
      return c.num_ack_pending === 0 && !(await jsm.streams.getMessage('WEBHOOKS', { seq: res.json.seq }).catch(() => null));
    });
  });
});
