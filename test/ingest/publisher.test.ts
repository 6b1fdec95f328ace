import { expect } from 'chai';
import { freePort } from '../../src/nats/localServer.js';
import { createLogger } from '../../src/log.js';
import { NatsLink } from '../../src/bus/connection.js';
import { WebhookPublisher, type AcceptedWebhook } from '../../src/ingest/publisher.js';
import { ensureWebhooksTopology, type WebhooksStreamOptions } from '../../src/bus/topology.js';
import { failureOf } from '../helpers/outcomes.js';
import { TestNats } from '../helpers/natsServer.js';
import { useJetStream } from '../helpers/jetStreamFixture.js';
import { waitFor } from '../helpers/waitFor.js';
import { WEBHOOKS_STREAM } from '../../src/bus/names.js';

const LIMITS: WebhooksStreamOptions = { duplicateWindowMs: 120_000, maxBytes: 1024 * 1024, maxMsgs: -1, replicas: 1 };
const CONSUMERS = new Map([['orders', { maxDeliver: 5, ackWaitMs: 5000, concurrency: 1 }]]);
const log = createLogger('silent');

const webhook = (id: string, overrides: Partial<AcceptedWebhook> = {}): AcceptedWebhook => ({
  source: 'orders',
  id,
  idGenerated: false,
  body: new TextEncoder().encode(JSON.stringify({ embeds: [{ description: `Order Number\n${id}` }] })),
  contentType: 'application/json',
  receivedAt: new Date('2026-01-02T03:04:05.678Z'),
  eventType: 'order.created',
  ...overrides,
});

describe('WebhookPublisher (against nats-server)', () => {
  const server = useJetStream();
  let jsm: typeof server.jsm;
  let link: NatsLink;
  let publisher: WebhookPublisher;

  beforeEach(async () => {
    jsm = server.jsm;
    link = NatsLink.start({ servers: server.nats.url, log, retryMs: 20, onConnect: ({ jsm: m }) => ensureWebhooksTopology(m, LIMITS, CONSUMERS) });
    await link.whenReady();
    publisher = new WebhookPublisher(link, { ackTimeoutMs: 2000 });
  });
  afterEach(async () => {
    publisher.close();
    await link.drain();
    await jsm.streams.delete(WEBHOOKS_STREAM).catch(() => undefined);
  });

  it('stores a webhook on webhooks.<source> with its headers and resolves with its sequence', async () => {
    const w = webhook('order-1');
    const stored = await publisher.publish(w);
    expect(stored).to.deep.equal({ seq: 1, duplicate: false });
    const msg = await jsm.streams.getMessage(WEBHOOKS_STREAM, { seq: stored.seq });
    expect(msg!.subject).to.equal('webhooks.orders');
    expect(msg!.data).to.deep.equal(w.body);
    const header = (name: string) => msg!.header.get(name);
    expect(['Nats-Msg-Id', 'Webhook-Source', 'Webhook-Id', 'Webhook-Id-Origin', 'Webhook-Received-At', 'Content-Type', 'Webhook-Event-Type'].map(header)).to.deep.equal([
      'order-1',
      'orders',
      'order-1',
      'sender',
      '2026-01-02T03:04:05.678Z',
      'application/json',
      'order.created',
    ]);
  });

  it('marks a generated id and leaves out a missing event type', async () => {
    const stored = await publisher.publish(webhook('gen-1', { idGenerated: true, eventType: undefined }));
    const msg = await jsm.streams.getMessage(WEBHOOKS_STREAM, { seq: stored.seq });
    expect(msg!.header.get('Webhook-Id-Origin')).to.equal('generated');
    expect(msg!.header.has('Webhook-Event-Type')).to.equal(false);
  });

  it('acknowledges a resend inside the duplicate window as a duplicate, and stores it once', async () => {
    const first = await publisher.publish(webhook('order-2'));
    const again = await publisher.publish(webhook('order-2'));
    expect(again).to.deep.equal({ seq: first.seq, duplicate: true });
    expect((await jsm.streams.info(WEBHOOKS_STREAM)).state.messages).to.equal(1);
  });

  it('refuses with a retriable INGEST_STREAM_REFUSED when the stream is full', async () => {
    await ensureWebhooksTopology(jsm, { ...LIMITS, maxMsgs: 2 }, CONSUMERS);
    await publisher.publish(webhook('full-1'));
    await publisher.publish(webhook('full-2'));
    const refused = await failureOf(publisher.publish(webhook('full-3')));
    expect(refused).to.deep.include({ code: 'INGEST_STREAM_REFUSED', status: 503, retriable: true });
    expect(refused.headers).to.deep.equal({ 'Retry-After': '30' });
    expect((await jsm.streams.info(WEBHOOKS_STREAM)).state.messages, 'discard new keeps what was stored').to.equal(2);
  });

  it('refuses with INGEST_STREAM_UNAVAILABLE when no stream takes the subject', async () => {
    await jsm.streams.delete(WEBHOOKS_STREAM);
    const refused = await failureOf(publisher.publish(webhook('lost-1')));
    expect(refused).to.deep.include({ code: 'INGEST_STREAM_UNAVAILABLE', status: 503, retriable: true });
  });
});

describe('NatsLink (against nats-server)', () => {
  let nats: TestNats;

  before(async () => {
    nats = await TestNats.start();
  });
  after(async () => {
    await nats?.dispose();
  });

  it('retries onConnect until it succeeds, then reports ready', async () => {
    let attempts = 0;
    const reasons: string[] = [];
    const link = NatsLink.start({
      servers: nats.url,
      log,
      retryMs: 10,
      onConnect: async () => {
        attempts += 1;
        reasons.push(link.status().reason);
        if (attempts < 3) throw new Error(`not yet (${attempts})`);
      },
    });
    try {
      await link.whenReady();
      expect(attempts).to.equal(3);
      expect(reasons).to.deep.equal(['preparing JetStream streams', 'preparing JetStream streams', 'preparing JetStream streams']);
      expect(link.status()).to.deep.equal({ ready: true, reason: 'connected' });
    } finally {
      await link.drain();
    }
    expect(link.status()).to.deep.equal({ ready: false, reason: 'shutting down' });
  });

  it('is not ready while NATS cannot be reached, and a publish through it is refused as unavailable', async () => {
    const link = NatsLink.start({ servers: `nats://127.0.0.1:${await freePort()}`, log });
    // No retries: the refusal comes at once, with the link's reason.
    const publisher = new WebhookPublisher(link, { deadlineMs: 0 });
    try {
      expect(link.status()).to.deep.equal({ ready: false, reason: 'connecting to NATS' });
      const refused = await failureOf(publisher.publish(webhook('early-1')));
      expect(refused).to.deep.include({ code: 'INGEST_STREAM_UNAVAILABLE', retriable: true });
      expect(refused.message).to.match(/connecting to NATS|cannot connect to NATS: /);
    } finally {
      publisher.close();
      await link.drain();
    }
  });

  it('reports a lost server and runs onConnect again once it is back', async function () {
    this.timeout(30_000);
    let prepared = 0;
    const link = NatsLink.start({ servers: nats.url, log, onConnect: async () => void (prepared += 1) });
    try {
      await link.whenReady();
      await nats.stop();
      await waitFor('the link to notice', () => link.status().reason === 'disconnected from NATS; reconnecting');
      expect(link.ready).to.equal(false);
      await nats.restart();
      await waitFor('the link to be ready again', () => link.ready, { timeoutMs: 20_000 });
      expect(prepared).to.equal(2);
    } finally {
      await link.drain();
    }
  });
});
