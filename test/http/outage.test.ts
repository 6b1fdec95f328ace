import { expect } from 'chai';
import { TestNats } from '../helpers/natsServer.js';
import { inspector, ORDER_BODY, postWebhook, startTestService } from '../helpers/service.js';
import { waitFor } from '../helpers/waitFor.js';
import { testEnv } from '../helpers/testEnv.js';
import type { RunningService } from '../../src/service.js';

describe('ingest while JetStream is unavailable', () => {
  let nats: TestNats;
  let service: RunningService;

  beforeEach(async () => {
    nats = await TestNats.start();
  });

  afterEach(async () => {
    await service?.stop();
    await nats?.dispose();
  });

  it('answers 503 with Retry-After once its publish deadline has passed while nats-server is down, 202 after it returns, and loses no acknowledged webhook', async () => {
    service = await startTestService(nats, { INGEST_PUBLISH_DEADLINE: '300ms' });
    const acked: { id: string; seq: number }[] = [];
    const refused: number[] = [];
    let n = 0;
    let sending = true;
    const sender = (async () => {
      while (sending) {
        const id = `outage-${n++}`;
        const res = await postWebhook(service.url, 'orders', ORDER_BODY, { 'webhook-id': id });
        if (res.status === 202) acked.push({ id, seq: res.json.seq });
        else {
          expect(res.status).to.equal(503);
          expect(res.headers.get('retry-after')).to.match(/^\d+$/);
          expect(res.json.error.code).to.match(/^INGEST_STREAM_(UNAVAILABLE|REFUSED)$/);
          refused.push(res.status);
        }
      }
    })();

    await waitFor('some webhooks stored', () => acked.length >= 50);
    await nats.kill();
    await waitFor('503 answers while down', () => refused.length >= 5);
    const ready = await fetch(`${service.url}/ready`);
    expect(ready.status).to.equal(503);
    expect(((await ready.json()) as { reason: string }).reason).to.be.a('string').and.not.equal('connected');

    await nats.restart();
    const ackedBeforeRestart = acked.length;
    await waitFor('202 again after restart', () => acked.length >= ackedBeforeRestart + 50, { timeoutMs: 20_000 });
    sending = false;
    await sender;

    const { nc, jsm } = await inspector(nats);
    try {
      for (const { id, seq } of acked) {
        const m = await jsm.streams.getMessage('WEBHOOKS', { seq });
        expect(m?.header.get('Webhook-Id'), `seq ${seq}`).to.equal(id);
      }
      const ids = new Set(acked.map((a) => a.id));
      expect(ids.size).to.equal(acked.length);
    } finally {
      await nc.close();
    }
  });

  it('keeps retrying an unreachable NATS and reports it on /ready', async () => {
    await nats.stop();
    const { loadConfig } = await import('../../src/serviceConfig.js');
    const { startService } = await import('../../src/service.js');
    const { createLogger } = await import('../../src/log.js');
    service = await startService(loadConfig(testEnv({ INGEST_PUBLISH_DEADLINE: '300ms' })), createLogger('silent'), nats.url, { edge: true, processing: false });
    const notReady = await fetch(`${service.url}/ready`);
    expect(notReady.status).to.equal(503);
    expect(((await notReady.json()) as { ready: boolean }).ready).to.equal(false);
    expect((await postWebhook(service.url, 'orders', ORDER_BODY)).status).to.equal(503);

    await nats.restart();
    await waitFor('/ready turns 200', async () => (await fetch(`${service.url}/ready`)).status === 200, { timeoutMs: 20_000 });
    expect((await postWebhook(service.url, 'orders', ORDER_BODY)).status).to.equal(202);
  });

  it('rides out a short outage: a webhook sent while nats-server is down is stored once and answered 202 when it is back', async () => {
    service = await startTestService(nats, { INGEST_PUBLISH_DEADLINE: '20s' });
    expect((await postWebhook(service.url, 'orders', ORDER_BODY, { 'webhook-id': 'before' })).status).to.equal(202);
    await nats.kill();
    await waitFor('the edge to notice', async () => (await fetch(`${service.url}/ready`)).status === 503, { timeoutMs: 10_000 });
    const during = postWebhook(service.url, 'orders', ORDER_BODY, { 'webhook-id': 'during-outage' });
    await nats.restart();
    const answer = await during;
    expect(answer.status, JSON.stringify(answer.json)).to.equal(202);
    const { nc, jsm } = await inspector(nats);
    try {
      const stored = await jsm.streams.getMessage('WEBHOOKS', { seq: answer.json.seq });
      expect(stored?.header.get('Webhook-Id')).to.equal('during-outage');
      expect((await jsm.streams.info('WEBHOOKS')).state.messages).to.equal(2);
    } finally {
      await nc.close();
    }
  });

  it('refuses with 503 when the stream is full instead of dropping stored webhooks', async () => {
    service = await startTestService(nats, { WEBHOOKS_MAX_MSGS: '3' });
    const { nc, count } = await inspector(nats);
    try {
      for (let i = 0; i < 3; i++) expect((await postWebhook(service.url, 'orders', ORDER_BODY)).status).to.equal(202);
      const full = await postWebhook(service.url, 'orders', ORDER_BODY);
      expect(full.status).to.equal(503);
      expect(full.json.error.code).to.equal('INGEST_STREAM_REFUSED');
      expect(full.headers.get('retry-after')).to.match(/^\d+$/);
      expect(await count()).to.equal(3);
    } finally {
      await nc.close();
    }
  });
});
