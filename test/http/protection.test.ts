import { connect, type Socket } from 'node:net';
import { URL } from 'node:url';
import { expect } from 'chai';
import { TestNats } from '../helpers/natsServer.js';
import { ORDER_BODY, postWebhook, startTestService } from '../helpers/service.js';
import { parsePrometheusText, sampleValue } from '../helpers/promText.js';
import { waitFor } from '../helpers/waitFor.js';
import type { RunningService } from '../../src/service.js';

function openSocket(base: string): Promise<Socket> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), hostname, () => resolve(s));
    s.once('error', reject);
  });
}

/** Collects what the server sends until it closes the socket; resolves with the text and when it closed. */
function untilClosed(socket: Socket): Promise<{ text: string; closedAt: number }> {
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (text += d));
  socket.on('error', () => undefined);
  return new Promise((resolve) => socket.once('close', () => resolve({ text, closedAt: Date.now() })));
}

const stats = async (s: RunningService) => (await (await fetch(`${s.url}/stats`)).json()) as any;

describe('ingest protection', () => {
  let nats: TestNats;
  let service: RunningService | undefined;
  const sockets: Socket[] = [];

  before(async () => {
    nats = await TestNats.start();
  });
  after(async () => {
    await nats?.dispose();
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await service?.stop(1000);
    service = undefined;
  });

  describe('per-IP rate limit', () => {
    it('answers 429 with Retry-After to a flooding client while another client is served (TRUST_PROXY=1)', async () => {
      service = await startTestService(nats, { TRUST_PROXY: '1', INGEST_RATE_PER_IP: '2', INGEST_BURST_PER_IP: '5' });
      const flood = await Promise.all(
        Array.from({ length: 20 }, (_, i) => postWebhook(service!.url, 'orders', ORDER_BODY, { 'x-forwarded-for': '203.0.113.7', 'webhook-id': `flood-${i}` })),
      );
      const accepted = flood.filter((r) => r.status === 202);
      const limited = flood.filter((r) => r.status === 429);
      expect(accepted.length).to.be.within(5, 6);
      expect(limited.length).to.equal(20 - accepted.length);
      const one = limited[0]!;
      expect(Number(one.headers.get('retry-after'))).to.be.within(1, 2);
      expect(one.json.error).to.include({ code: 'INGEST_RATE_LIMITED' });
      expect(one.json.error.message).to.match(/retry in \d+ s/);

      const other = await postWebhook(service.url, 'orders', ORDER_BODY, { 'x-forwarded-for': '198.51.100.20', 'webhook-id': 'other-client' });
      expect(other.status).to.equal(202);
      // The proxy appends the client's address; a client's own X-Forwarded-For entries further left are not trusted.
      const spoofed = await postWebhook(service.url, 'orders', ORDER_BODY, { 'x-forwarded-for': '10.9.9.9, 203.0.113.7', 'webhook-id': 'spoof' });
      expect(spoofed.status).to.equal(429);

      const s = await stats(service);
      expect(s.protection.rateLimited).to.equal(limited.length + 1);
      expect(s.refused.byCode.INGEST_RATE_LIMITED).to.equal(limited.length + 1);
      const m = parsePrometheusText(await (await fetch(`${service.url}/metrics`)).text());
      expect(sampleValue(m, 'webhook_relay_ingest_rate_limited_total')).to.equal(limited.length + 1);
      expect(sampleValue(m, 'webhook_relay_webhooks_refused_total', { source: 'orders', code: 'INGEST_RATE_LIMITED' })).to.equal(limited.length + 1);
      expect(sampleValue(m, 'webhook_relay_http_request_duration_seconds_count', { method: 'POST', route: '/webhooks/:source', status: '429' })).to.equal(limited.length + 1);
    });

    it('ignores X-Forwarded-For without TRUST_PROXY', async () => {
      service = await startTestService(nats, { INGEST_RATE_PER_IP: '1', INGEST_BURST_PER_IP: '3' });
      const answers = [];
      for (let i = 0; i < 6; i++) {
        // Every request claims another address; all come from the same socket address.
        answers.push((await postWebhook(service.url, 'orders', ORDER_BODY, { 'x-forwarded-for': `192.0.2.${i}`, 'webhook-id': `xff-${i}` })).status);
      }
      expect(answers.slice(0, 3)).to.deep.equal([202, 202, 202]);
      expect(answers.slice(3)).to.include(429);
    });

    it('lets everything through with INGEST_RATE_PER_IP=0', async () => {
      service = await startTestService(nats, { INGEST_RATE_PER_IP: '0' });
      const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => postWebhook(service!.url, 'orders', ORDER_BODY, { 'webhook-id': `free-${i}` })));
      expect(answers.every((a) => a.status === 202)).to.equal(true);
    });
  });

  describe('slow senders', () => {
    it('closes a connection that sends its headers too slowly (slow loris)', async () => {
      service = await startTestService(nats, { HEADERS_TIMEOUT_MS: '500', REQUEST_TIMEOUT_MS: '2000' });
      const socket = await openSocket(service.url);
      sockets.push(socket);
      const closed = untilClosed(socket);
      const started = Date.now();
      socket.write('POST /webhooks/orders HTTP/1.1\r\nHost: relay\r\n');
      const drip = setInterval(() => socket.writable && socket.write(`X-Drip-${Date.now()}: 1\r\n`), 100);
      const { text, closedAt } = await closed;
      clearInterval(drip);
      expect(closedAt - started).to.be.within(400, 1500);
      expect(text).to.match(/^HTTP\/1\.1 408 /);
      expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).error.code).to.equal('HTTP_REQUEST_TIMEOUT');
      await waitFor('counted', async () => (await stats(service!)).protection.slowClientsClosed === 1);
    });

    it('closes a connection whose body does not arrive within REQUEST_TIMEOUT_MS', async () => {
      service = await startTestService(nats, { HEADERS_TIMEOUT_MS: '300', REQUEST_TIMEOUT_MS: '800' });
      const storedBefore = (await stats(service)).stream.messages;
      const socket = await openSocket(service.url);
      sockets.push(socket);
      const closed = untilClosed(socket);
      const started = Date.now();
      socket.write('POST /webhooks/orders HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"embeds":');
      const drip = setInterval(() => socket.writable && socket.write(' '), 100);
      const { closedAt } = await closed;
      clearInterval(drip);
      expect(closedAt - started).to.be.within(700, 2000);
      const after = await stats(service);
      expect(after.stream.messages).to.equal(storedBefore);
      expect(after.refused.byCode).to.deep.include({ HTTP_REQUEST_ABORTED: 1 });
      expect(after.protection.slowClientsClosed).to.equal(1);
    });

    it('quietly closes a connection that sends nothing at all (not counted as a slow sender)', async () => {
      service = await startTestService(nats, { HEADERS_TIMEOUT_MS: '300', REQUEST_TIMEOUT_MS: '1000' });
      const socket = await openSocket(service.url);
      sockets.push(socket);
      const started = Date.now();
      const { text, closedAt } = await untilClosed(socket);
      expect(closedAt - started).to.be.within(200, 1200);
      expect(text).to.equal('');
      expect((await stats(service)).protection.slowClientsClosed).to.equal(0);
    });
  });

  describe('MAX_CONNECTIONS', () => {
    it('answers a connection beyond the cap with a quick 503 and serves again once one closes', async () => {
      service = await startTestService(nats, { MAX_CONNECTIONS: '2' });
      const held = [await openSocket(service.url), await openSocket(service.url)];
      sockets.push(...held);
      await waitFor('both held connections admitted', async () => (await service!.ops.metrics.openConnections.get()).values[0]?.value === 2);

      const extra = await openSocket(service.url);
      sockets.push(extra);
      const started = Date.now();
      const closed = untilClosed(extra);
      extra.write('GET /health HTTP/1.1\r\nHost: relay\r\n\r\n');
      const { text, closedAt } = await closed;
      expect(closedAt - started).to.be.below(2500);
      expect(text).to.match(/^HTTP\/1\.1 503 /);
      expect(text).to.match(/\r\nRetry-After: 1\r\n/i);
      expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).error.code).to.equal('HTTP_TOO_MANY_CONNECTIONS');

      held[0]!.destroy();
      await waitFor('a slot is free', async () => (await service!.ops.metrics.openConnections.get()).values[0]?.value === 1);
      const res = await fetch(`${service.url}/stats`);
      expect(res.status).to.equal(200);
      expect(((await res.json()) as any).protection.connectionsRefused).to.equal(1);
    });
  });
});
