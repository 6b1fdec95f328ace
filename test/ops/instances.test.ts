import { connect, type NatsConnection } from '@nats-io/transport-node';
import { expect } from 'chai';
import type { RunningService } from '../../src/service.js';
import { TestNats } from '../helpers/natsServer.js';
import { ORDER_BODY, postWebhook, startTestService } from '../helpers/service.js';
import { parsePrometheusText, sampleValue } from '../helpers/promText.js';
import { SseClient } from '../helpers/sseClient.js';
import { waitFor } from '../helpers/waitFor.js';

const order = (n: string) => ({ embeds: [{ ...ORDER_BODY.embeds[0]!, description: `Product\nThing\nPrice\n$1.00\nOrder Number\n${n}\nEmail\na@example.com` }] });
const json = async (url: string) => (await fetch(url)).json() as Promise<any>;

describe('operating view across instances (NATS)', function () {
  this.timeout(60_000);
  let nats: TestNats;
  let a: RunningService;
  let b: RunningService;
  let nc: NatsConnection;
  let sse: SseClient | undefined;

  before(async () => {
    nats = await TestNats.start();
    // inst-a runs everything; inst-b is an edge only, so every webhook is processed by inst-a.
    a = await startTestService(nats, { INSTANCE_ID: 'inst-a' }, { edge: true, processing: true });
    b = await startTestService(nats, { INSTANCE_ID: 'inst-b' }, { edge: true, processing: false });
    nc = await connect({ servers: nats.url });
    await waitFor('both instances in each roster', async () => (await json(`${b.url}/stats`)).covers.processes === 2 && (await json(`${a.url}/stats`)).covers.processes === 2);
  });

  after(async () => {
    sse?.close();
    await nc?.close();
    await b?.stop(1000);
    await a?.stop(1000);
    await nats?.dispose();
  });

  it('sums /stats over every instance, on any of them, and says which answered', async () => {
    expect((await postWebhook(a.url, 'orders', order('IN-1'), { 'webhook-id': 'inst-1' })).status).to.equal(202);
    expect((await postWebhook(b.url, 'orders', order('IN-2'), { 'webhook-id': 'inst-2' })).status).to.equal(202);
    expect((await postWebhook(b.url, 'orders', { embeds: 'no' })).status).to.equal(422);
    for (const service of [a, b]) {
      const stats = await waitFor('both webhooks processed', async () => {
        const s = await json(`${service.url}/stats`);
        return s.processed === 2 ? s : undefined;
      });
      expect(stats).to.include({ received: 3, published: 2, processed: 2 });
      expect(stats.refused.byCode).to.deep.equal({ INGEST_SCHEMA_INVALID: 1 });
      // The refusal happened on inst-b; each process keeps its own window and /stats adds them up.
      expect(stats.recentWindow).to.deep.equal({ seconds: 300, refused: 1, retried: 0, deadLettered: 0 });
      expect(stats.covers).to.deep.equal({ instances: ['inst-a', 'inst-b'], processes: 2, unanswered: [] });
      expect(stats.instance).to.equal(service === a ? 'inst-a' : 'inst-b');
      expect(stats.p99Window).to.equal(2);
    }
  });

  it('answers /metrics for its own instance only, every series labelled instance_id', async () => {
    for (const [service, instance, received, processed] of [
      [a, 'inst-a', 1, 2],
      [b, 'inst-b', 2, undefined],
    ] as const) {
      const m = parsePrometheusText(await (await fetch(`${service.url}/metrics`)).text());
      expect(sampleValue(m, 'webhook_relay_webhooks_received_total', { source: 'orders', instance_id: instance })).to.equal(received);
      expect(sampleValue(m, 'webhook_relay_processing_outcomes_total', { source: 'orders', outcome: 'done', instance_id: instance })).to.equal(processed);
      const other = instance === 'inst-a' ? 'inst-b' : 'inst-a';
      for (const s of m.samples) expect(s.labels.instance_id, `${s.name} ${JSON.stringify(s.labels)}`).to.equal(instance);
      expect(sampleValue(m, 'webhook_relay_webhooks_received_total', { source: 'orders', instance_id: other })).to.equal(undefined);
    }
  });

  it('shows on an edge-only instance each dependency with the instance that runs it', async () => {
    const actors = await json(`${b.url}/actors`);
    const audnex = actors.dependencies.find((d: any) => d.name === 'audnex');
    expect(audnex.instance).to.equal('inst-a');
    expect(audnex.owner.instance).to.equal('inst-a');
    expect(Number.isNaN(Date.parse(audnex.owner.since))).to.equal(false);
    const browser = actors.dependencies.find((d: any) => d.name === 'browser');
    expect(browser).to.include({ instance: 'inst-a', owner: null });
  });

  it('streams on one instance the live events another instance produces', async () => {
    sse = await SseClient.connect(`${b.url}/events`);
    await waitFor('the first snapshot', () => sse!.named('snapshot')[0]);
    // inst-a starts publishing its events once it has heard inst-b watch.
    const done = await waitFor(
      'the done event from inst-a',
      async () => {
        await postWebhook(b.url, 'orders', order('IN-3'), { 'webhook-id': `inst-3-${Date.now()}` });
        return sse!.named('webhook').find((e) => e.data.outcome === 'done');
      },
      { intervalMs: 300 },
    );
    expect(done.data).to.include({ instance: 'inst-a', source: 'orders' });
  });

  it('lists a process that answered before and does not answer now as unanswered, and forgets it when it leaves', async () => {
    const ghost = { member: 'ghost-1', instance: 'inst-ghost', pid: 4242, role: 'primary', processing: false, startedAt: Date.now() };
    // The ghost answers the others' probes (presences with a reply subject), so it is waited for; it answers nothing else.
    const probes = nc.subscribe('webhook-relay.ops.presence', { callback: (_e, msg) => void (msg.reply && msg.respond(JSON.stringify(ghost))) });
    const beat = setInterval(() => nc.publish('webhook-relay.ops.presence', JSON.stringify(ghost)), 1000);
    try {
      nc.publish('webhook-relay.ops.presence', JSON.stringify({ ...ghost, hello: true }));
      const stats = await waitFor('the ghost listed', async () => {
        const s = await json(`${a.url}/stats`);
        return s.covers.unanswered.length > 0 ? s : undefined;
      });
      expect(stats.covers).to.deep.equal({ instances: ['inst-a', 'inst-b'], processes: 2, unanswered: [{ instance: 'inst-ghost', pid: 4242 }] });
    } finally {
      clearInterval(beat);
      probes.unsubscribe();
    }
    nc.publish('webhook-relay.ops.presence', JSON.stringify({ ...ghost, leaving: true }));
    await waitFor('the ghost forgotten', async () => (await json(`${a.url}/stats`)).covers.unanswered.length === 0);
  });

  it('ignores messages on its subjects that are not what the subject carries', async () => {
    for (const subject of ['webhook-relay.ops.presence', 'webhook-relay.ops.watch', 'webhook-relay.ops.events.inst-x']) {
      nc.publish(subject, 'not json');
      nc.publish(subject, JSON.stringify({ member: 42 }));
    }
    // A metrics answer of the wrong shape is left out; the real ones still count.
    const bogus = nc.subscribe('webhook-relay.ops.metrics', { callback: (_e, msg) => void msg.respond(JSON.stringify({ member: 'x', instance: 'x', metrics: 'no' })) });
    await nc.flush();
    const stats = await json(`${b.url}/stats`);
    bogus.unsubscribe();
    expect(stats.covers).to.deep.equal({ instances: ['inst-a', 'inst-b'], processes: 2, unanswered: [] });
    expect(stats.processed).to.be.at.least(2);
  });
});
