import { request } from 'node:http';
import { expect } from 'chai';
import { nanos } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { Webhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import type { NatsConnection } from '@nats-io/transport-node';
import type { JetStreamManager } from '@nats-io/jetstream';
import { TestNats } from '../helpers/natsServer.js';
import { inspector, ORDER_BODY, postWebhook, startTestService } from '../helpers/service.js';
import type { RunningService } from '../../src/service.js';

const SECRET = `whsec_${Buffer.from('orders-test-signing-key-32-bytes').toString('base64')}`;

describe('POST /webhooks/:source', () => {
  let nats: TestNats;
  let service: RunningService;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let count: () => Promise<number>;

  before(async () => {
    nats = await TestNats.start();
    service = await startTestService(nats, { MAX_BODY_BYTES: '4096', WEBHOOK_SECRET_PAGES: SECRET });
    ({ nc, jsm, count } = await inspector(nats));
  });

  after(async () => {
    await nc?.close();
    await service?.stop();
    await nats?.dispose();
  });

  /** Asserts the request is refused with `status`/`code` and nothing is stored. */
  async function expectRefused(status: number, code: string, send: () => Promise<{ status: number; json: any }>) {
    const before = await count();
    const res = await send();
    expect(res.status, JSON.stringify(res.json)).to.equal(status);
    expect(res.json.error.code).to.equal(code);
    expect(res.json.error.message).to.be.a('string').and.not.equal('');
    expect(await count()).to.equal(before);
    return res;
  }

  it('answers 202 with id, source, seq and duplicate after the publish ack', async () => {
    const before = await count();
    const res = await postWebhook(service.url, 'orders', ORDER_BODY, { 'webhook-id': 'order-202', 'x-github-event': 'order.created' });
    expect(res.status).to.equal(202);
    expect(res.json).to.deep.equal({ id: 'order-202', source: 'orders', seq: res.json.seq, duplicate: false });
    expect(res.json.seq).to.be.a('number').greaterThan(0);
    expect(await count()).to.equal(before + 1);

    const stored = await jsm.streams.getMessage('WEBHOOKS', { seq: res.json.seq });
    expect(stored!.subject).to.equal('webhooks.orders');
    expect(JSON.parse(stored!.string())).to.deep.equal(ORDER_BODY);
    expect(stored!.header.get('Nats-Msg-Id')).to.equal('order-202');
    expect(stored!.header.get('Webhook-Id')).to.equal('order-202');
    expect(stored!.header.get('Webhook-Source')).to.equal('orders');
    expect(stored!.header.get('Webhook-Event-Type')).to.equal('order.created');
    expect(stored!.header.get('Content-Type')).to.equal('application/json');
    expect(Date.parse(stored!.header.get('Webhook-Received-At'))).to.be.closeTo(Date.now(), 60_000);
  });

  it('answers a status from the moment of the 202: queued, read off the stored webhook, with nothing written to webhook-status', async () => {
    const statusesBefore = (await jsm.streams.info('KV_webhook-status')).state.last_seq;
    const res = await postWebhook(service.url, 'orders', ORDER_BODY, { 'webhook-id': 'queued-1' });
    const r = await fetch(`${service.url}/webhooks/orders/queued-1`);
    expect(r.status).to.equal(200);
    const stored = await jsm.streams.getMessage('WEBHOOKS', { seq: res.json.seq });
    expect(await r.json()).to.deep.equal({ id: 'queued-1', source: 'orders', status: 'queued', seq: res.json.seq, deliveries: 0, updatedAt: stored!.header.get('Webhook-Received-At') });
    expect((await jsm.streams.info('KV_webhook-status')).state.last_seq).to.equal(statusesBefore);
  });

  it('stores nothing when it reads a status, and answers 404 for an id never stored or stored under another source', async () => {
    const res = await postWebhook(service.url, 'audiobooks', { asin: 'B08G9PRS1K' }, { 'webhook-id': 'books-only' });
    expect(res.status).to.equal(202);
    const { last_seq: before, messages } = (await jsm.streams.info('WEBHOOKS')).state;
    for (const [source, id, status] of [['audiobooks', 'books-only', 200], ['orders', 'books-only', 404], ['orders', 'never-sent', 404], ['audiobooks', 'never-sent', 404]] as const) {
      const r = await fetch(`${service.url}/webhooks/${source}/${id}`);
      expect(r.status, `${source}/${id}`).to.equal(status);
      if (status === 404) expect(((await r.json()) as any).error.code).to.equal('WEBHOOK_NOT_FOUND');
    }
    expect((await jsm.streams.info('WEBHOOKS')).state).to.include({ last_seq: before, messages });
  });

  it('answers what processing recorded over the stored webhook, and 404 once the webhook is gone with no status', async () => {
    const a = await postWebhook(service.url, 'orders', ORDER_BODY, { 'webhook-id': 'recorded-1' });
    const kv = await new Kvm(nc).open('webhook-status');
    await kv.put('orders.recorded-1', JSON.stringify({ id: 'recorded-1', source: 'orders', status: 'processing', seq: a.json.seq, deliveries: 1, updatedAt: new Date().toISOString() }));
    expect(await (await fetch(`${service.url}/webhooks/orders/recorded-1`)).json()).to.include({ status: 'processing', deliveries: 1 });
    const b = await postWebhook(service.url, 'orders', ORDER_BODY, { 'webhook-id': 'gone-1' });
    await jsm.streams.deleteMessage('WEBHOOKS', b.json.seq);
    expect((await fetch(`${service.url}/webhooks/orders/gone-1`)).status).to.equal(404);
  });

  it('stores the raw body byte for byte', async () => {
    const raw = '{ "embeds" : [ {"description":"Order Number\\nRAW-1"} ] }';
    const res = await postWebhook(service.url, 'orders', raw);
    expect(res.status).to.equal(202);
    const stored = await jsm.streams.getMessage('WEBHOOKS', { seq: res.json.seq });
    expect(stored!.string()).to.equal(raw);
  });

  it('takes the delivery id from x-github-delivery or idempotency-key, else generates one', async () => {
    const gh = await postWebhook(service.url, 'orders', ORDER_BODY, { 'x-github-delivery': 'gh-delivery-1' });
    const idem = await postWebhook(service.url, 'orders', ORDER_BODY, { 'idempotency-key': 'idem-1' });
    const gen = await postWebhook(service.url, 'orders', ORDER_BODY);
    expect(gh.json.id).to.equal('gh-delivery-1');
    expect(idem.json.id).to.equal('idem-1');
    expect(gen.json.id).to.match(/^[0-9a-f-]{36}$/);
  });

  it('answers a resend inside the duplicate window with duplicate: true and stores nothing new', async () => {
    const first = await postWebhook(service.url, 'orders', ORDER_BODY, { 'webhook-id': 'dup-1' });
    const before = await count();
    const again = await postWebhook(service.url, 'orders', ORDER_BODY, { 'webhook-id': 'dup-1' });
    expect(again.status).to.equal(202);
    expect(again.json).to.include({ id: 'dup-1', duplicate: true, seq: first.json.seq });
    expect(await count()).to.equal(before);
  });

  it('refuses an unknown source with 404', async () => {
    await expectRefused(404, 'INGEST_UNKNOWN_SOURCE', () => postWebhook(service.url, 'nope', ORDER_BODY));
  });

  it('refuses a non-JSON content type with 415', async () => {
    await expectRefused(415, 'INGEST_UNSUPPORTED_MEDIA_TYPE', () =>
      postWebhook(service.url, 'orders', JSON.stringify(ORDER_BODY), { 'content-type': 'text/plain' }),
    );
  });

  it('refuses a declared body over MAX_BODY_BYTES with 413', async () => {
    await expectRefused(413, 'INGEST_BODY_TOO_LARGE', () =>
      postWebhook(service.url, 'orders', { embeds: [{ description: 'x'.repeat(5000) }] }),
    );
  });

  it('stops reading a chunked body as soon as it passes MAX_BODY_BYTES', async () => {
    const before = await count();
    const url = new URL(service.url);
    let sent = 0;
    const result = await new Promise<{ status: number; body: string; sent: number }>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: '/webhooks/orders', method: 'POST', headers: { 'content-type': 'application/json' } });
      const chunk = Buffer.alloc(1024, 0x20);
      let stop = false;
      req.on('response', (res) => {
        stop = true;
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body, sent }));
      });
      req.on('error', (e) => (stop ? undefined : reject(e)));
      req.write('{"embeds":[');
      const pump = () => {
        // Keeps sending until the server answers; a server that buffered everything would never answer.
        while (!stop && sent < 64 * 1024 * 1024) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
      };
      pump();
    });
    expect(result.status).to.equal(413);
    expect(JSON.parse(result.body).error.code).to.equal('INGEST_BODY_TOO_LARGE');
    expect(result.sent).to.be.lessThan(64 * 1024 * 1024);
    expect(await count()).to.equal(before);
  });

  it('refuses malformed JSON with 400', async () => {
    await expectRefused(400, 'INGEST_MALFORMED_JSON', () => postWebhook(service.url, 'orders', '{"embeds": ['));
  });

  it('refuses invalid UTF-8 with 400', async () => {
    await expectRefused(400, 'INGEST_INVALID_UTF8', () =>
      postWebhook(service.url, 'orders', new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])),
    );
  });

  it('refuses a schema violation with 422 and ajv errors as details', async () => {
    const res = await expectRefused(422, 'INGEST_SCHEMA_INVALID', () => postWebhook(service.url, 'orders', { embeds: 'nope' }));
    expect(res.json.error.details).to.be.an('array').with.lengthOf.above(0);
    expect(res.json.error.details[0]).to.include({ path: '/embeds', keyword: 'type' });
  });

  it('refuses a delivery id header that is not visible ASCII with 400', async () => {
    await expectRefused(400, 'INGEST_BAD_HEADER', () =>
      postWebhook(service.url, 'orders', ORDER_BODY, { 'idempotency-key': 'x'.repeat(300) }),
    );
  });

  describe('with WEBHOOK_SECRET_PAGES set', () => {
    const page = { url: 'https://example.com/' };
    function sign(id: string, ts: number, body: string, secret = SECRET) {
      const signature = new Webhook(secret).sign(id, new Date(ts * 1000), body);
      return { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signature };
    }

    it('accepts a correctly signed webhook', async () => {
      const body = JSON.stringify(page);
      const res = await postWebhook(service.url, 'pages', body, sign('page-1', Math.floor(Date.now() / 1000), body));
      expect(res.status).to.equal(202);
      expect(res.json.id).to.equal('page-1');
    });

    it('refuses a missing signature with 401', async () => {
      await expectRefused(401, 'INGEST_SIGNATURE_MISSING', () => postWebhook(service.url, 'pages', page));
    });

    it('refuses a wrong signature with 401', async () => {
      const body = JSON.stringify(page);
      const other = `whsec_${Buffer.from('another-key').toString('base64')}`;
      await expectRefused(401, 'INGEST_SIGNATURE_INVALID', () =>
        postWebhook(service.url, 'pages', body, sign('page-2', Math.floor(Date.now() / 1000), body, other)),
      );
    });

    it('refuses a stale timestamp with 401', async () => {
      const body = JSON.stringify(page);
      await expectRefused(401, 'INGEST_SIGNATURE_EXPIRED', () =>
        postWebhook(service.url, 'pages', body, sign('page-3', Math.floor(Date.now() / 1000) - 600, body)),
      );
    });

    it('accepts a Svix delivery (svix-* headers), stores it under svix-id and stores a resend once', async () => {
      const body = JSON.stringify(page);
      const headers = { 'svix-id': 'msg_svix_1', 'svix-timestamp': String(Math.floor(Date.now() / 1000)) };
      const signature = new SvixWebhook(SECRET).sign(headers['svix-id'], new Date(Number(headers['svix-timestamp']) * 1000), body);
      const first = await postWebhook(service.url, 'pages', body, { ...headers, 'svix-signature': signature });
      expect(first.status, JSON.stringify(first.json)).to.equal(202);
      expect(first.json).to.include({ id: 'msg_svix_1', duplicate: false });
      const before = await count();
      const again = await postWebhook(service.url, 'pages', body, { ...headers, 'svix-signature': signature, 'idempotency-key': 'changed' });
      expect(again.json).to.include({ id: 'msg_svix_1', duplicate: true, seq: first.json.seq });
      expect(await count()).to.equal(before);
    });

    it('keeps delivery ids for 10 minutes, as long as a signature stays valid', async () => {
      const info = await jsm.streams.info('WEBHOOKS');
      expect(info.config.duplicate_window).to.equal(nanos(10 * 60_000));
    });

    it('does not require a signature from other sources', async () => {
      expect((await postWebhook(service.url, 'orders', ORDER_BODY)).status).to.equal(202);
    });
  });

  it('answers GET /health and GET /ready with 200', async () => {
    expect((await fetch(`${service.url}/health`)).status).to.equal(200);
    const ready = await fetch(`${service.url}/ready`);
    expect(ready.status).to.equal(200);
    expect(await ready.json()).to.deep.equal({ ready: true, reason: 'connected' });
  });

  it('answers unknown routes with the JSON error shape', async () => {
    const res = await fetch(`${service.url}/nothing-here`);
    expect(res.status).to.equal(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('HTTP_NOT_FOUND');
  });

  it('stores 1,000 concurrent webhooks exactly once each', async () => {
    const before = await count();
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => postWebhook(service.url, 'orders', ORDER_BODY, { 'webhook-id': `burst-${i}` })),
    );
    expect(results.filter((r) => r.status === 202)).to.have.length(1000);
    expect(new Set(results.map((r) => r.json.seq)).size).to.equal(1000);
    expect(await count()).to.equal(before + 1000);
    const info = await jsm.streams.info('WEBHOOKS', { subjects_filter: 'webhooks.orders' });
    expect(info.state.messages).to.equal(before + 1000);
  });
});
