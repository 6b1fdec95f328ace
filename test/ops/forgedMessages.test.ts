import { connect, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { expect } from 'chai';
import type { RunningService } from '../../src/service.js';
import { TestNats } from '../helpers/natsServer.js';
import { parsePrometheusText } from '../helpers/promText.js';
import { ORDER_BODY, postWebhook, startTestService } from '../helpers/service.js';
import { SseClient } from '../helpers/sseClient.js';
import { waitFor } from '../helpers/waitFor.js';

const order = (n: string) => ({ embeds: [{ ...ORDER_BODY.embeds[0]!, description: `Product\nThing\nPrice\n$1.00\nOrder Number\n${n}\nEmail\na@example.com` }] });
const json = async (url: string) => (await fetch(url)).json() as Promise<any>;
const PRESENCE = 'webhook-relay.ops.presence';
const BOTH = { instances: ['inst-a', 'inst-b'], processes: 2, unanswered: [] };

/** A dependency status as an instance running processing reports it. */
const forgedStatus = (name: string) => ({
  name,
  state: 'open',
  activity: 'idle',
  since: Date.now(),
  reason: 'forged',
  queueLength: 0,
  inFlight: 0,
  counters: { ok: 0, failed: 0, rejected: 0 },
  limits: { rate: 1, burst: 1, concurrency: 1, maxQueue: 1, timeoutMs: 1000 },
  tokens: { calls: 1 },
  tokenCapacity: { calls: 1 },
  restarts: 0,
});

/** A metrics reply as a real process sends it, moved to `instance`, with the orders `received` counter replaced. */
function inflated(real: any, member: string, instance: string, received: number): any {
  const metrics = real.metrics.map((m: any) =>
    m.name === 'webhook_relay_webhooks_received_total'
      ? { ...m, values: [{ value: received, labels: { source: 'orders', instance_id: instance } }] }
      : { ...m, values: m.values.map((v: any) => ({ ...v, labels: { ...v.labels, instance_id: instance } })) },
  );
  return { ...real, member, instance, metrics };
}

describe('operating view under forged ops messages (NATS)', function () {
  this.timeout(90_000);
  let nats: TestNats;
  let a: RunningService;
  let b: RunningService;
  let forger: NatsConnection;
  let sse: SseClient | undefined;
  const subscriptions: Subscription[] = [];
  /** The member id each real instance announces. */
  const memberOf = new Map<string, string>();
  let realReply: any;

  /** Answers every message on `subject` with `answer(msg)` until the test ends; counts them. */
  function answer(subject: string, reply: (msg: Msg) => unknown): { count: number } {
    const counter = { count: 0 };
    subscriptions.push(
      forger.subscribe(subject, {
        callback: (_e, msg) => {
          counter.count++;
          msg.respond(JSON.stringify(reply(msg)));
        },
      }),
    );
    return counter;
  }

  before(async () => {
    nats = await TestNats.start();
    // inst-a runs everything; inst-b is an edge only.
    a = await startTestService(nats, { INSTANCE_ID: 'inst-a' }, { edge: true, processing: true });
    b = await startTestService(nats, { INSTANCE_ID: 'inst-b' }, { edge: true, processing: false });
    forger = await connect({ servers: nats.url });
    const heard = forger.subscribe(PRESENCE, {
      callback: (_e, msg) => {
        const p = msg.json<{ member: string; instance: string }>();
        if (p.instance === 'inst-a' || p.instance === 'inst-b') memberOf.set(p.instance, p.member);
      },
    });
    await waitFor('both members heard', () => memberOf.size === 2, { timeoutMs: 20_000 });
    heard.unsubscribe();
    await waitFor('both instances in each /stats', async () => {
      const [sa, sb] = await Promise.all([json(`${a.url}/stats`), json(`${b.url}/stats`)]);
      return JSON.stringify(sa.covers) === JSON.stringify(BOTH) && JSON.stringify(sb.covers) === JSON.stringify(BOTH);
    }, { timeoutMs: 20_000 });
    // What a real process answers, for the forger to copy.
    for await (const m of await forger.requestMany('webhook-relay.ops.metrics', '', { strategy: 'count', maxMessages: 1, maxWait: 5000 })) realReply = m.json();
    expect(realReply.metrics).to.be.an('array');
  });

  afterEach(() => {
    sse?.close();
    sse = undefined;
    for (const s of subscriptions.splice(0)) s.unsubscribe();
  });

  after(async () => {
    await forger?.close();
    await b?.stop(1000);
    await a?.stop(1000);
    await nats?.dispose();
  });

  it('counts no metrics answer from a process it does not know, nor from one that copies a member id under another instance', async () => {
    const before = await json(`${b.url}/stats`);
    for (const [member, instance] of [
      ['forged-1', 'inst-evil'],
      [memberOf.get('inst-a')!, 'inst-evil'],
    ] as const) {
      const forged = answer('webhook-relay.ops.metrics', () => inflated(realReply, member, instance, 1_000_000));
      await forger.flush();
      const stats = await json(`${b.url}/stats`);
      subscriptions.pop()!.unsubscribe();
      expect(forged.count, 'the forger was asked').to.be.at.least(1);
      expect(stats.received, member).to.equal(before.received);
      expect(stats.covers, member).to.deep.equal(BOTH);
    }
  });

  it('does not wait for 500 processes that only announced themselves, and answers their hellos with a few presences', async () => {
    const published = new Map<string, number>();
    const real = new Set(memberOf.values());
    subscriptions.push(
      forger.subscribe(PRESENCE, {
        callback: (_e, msg) => {
          const member = msg.json<{ member: string }>().member;
          if (real.has(member)) published.set(member, (published.get(member) ?? 0) + 1);
        },
      }),
    );
    await forger.flush();
    for (let i = 0; i < 500; i++) {
      const hello = { member: `forged-hello-${i}`, instance: 'inst-evil', pid: 10_000 + i, role: 'primary', processing: true, startedAt: Date.now(), hello: true };
      forger.publish(PRESENCE, JSON.stringify(hello));
    }
    // Messages from one connection arrive in order: a process answers this request after it has
    // handled every hello, and its answer reaches the forger after whatever it published for them.
    const answered = new Set<string>();
    for await (const m of await forger.requestMany('webhook-relay.ops.metrics', '', { strategy: 'timer', maxWait: 20_000 })) {
      answered.add(m.json<{ member: string }>().member);
      if (answered.size === real.size) break;
    }
    expect([...answered].sort()).to.deep.equal([...real].sort());
    for (const member of real) {
      // At most one regular beat and one answer to the hellos per beat, the window crossing one beat at most.
      expect(published.get(member) ?? 0, `presences of ${member}`).to.be.at.most(4);
    }
    for (const service of [a, b]) {
      const stats = await json(`${service.url}/stats`);
      // Every process that answered before answered now; none of the 500 was waited for.
      expect(stats.covers).to.deep.equal(BOTH);
    }
  });

  it('shows no live events, latest events or actors from a process it does not know', async () => {
    const forgedActor = { type: 'actor', instance: 'inst-evil', cause: 'transition', dependency: 'forged-dep', from: 'closed', to: 'open', reason: 'forged', at: Date.now() };
    const recent = answer('webhook-relay.ops.recent', () => ({ member: 'forged-2', instance: 'inst-evil', events: [forgedActor] }));
    const actors = answer('webhook-relay.ops.actors', () => ({ instance: 'inst-evil', dependencies: [forgedStatus('forged-dep')], owned: { 'forged-dep': new Date().toISOString() } }));
    // An instance the roster knows, but one that runs no processing.
    answer('webhook-relay.ops.actors', () => ({ instance: 'inst-b', dependencies: [forgedStatus('forged-dep-b')], owned: {} }));
    const watchers = new Set<string>();
    subscriptions.push(forger.subscribe('webhook-relay.ops.watch', { callback: (_e, msg) => void watchers.add(msg.json<{ member: string }>().member) }));
    await forger.flush();

    sse = await SseClient.connect(`${b.url}/events`);
    const first = await waitFor('the first snapshot', () => sse!.named('snapshot')[0]);
    expect(recent.count, 'the forger was asked for recent events').to.be.at.least(1);
    expect(actors.count, 'the forger was asked for actors').to.be.at.least(1);
    expect(first.data.recent.filter((e: any) => e.instance === 'inst-evil')).to.deep.equal([]);
    expect(first.data.actors.dependencies.map((d: any) => d.name)).to.not.include.members(['forged-dep', 'forged-dep-b']);

    // Once inst-b watches, a forged batch under an unknown member, and one under inst-a's subject but another member.
    await waitFor('inst-b to watch', () => watchers.has(memberOf.get('inst-b')!));
    const forgedWebhook = (id: string, instance: string) => ({ type: 'webhook', instance, outcome: 'done', source: 'orders', id, seq: 1, deliveries: 1, durationMs: 1, at: Date.now() });
    forger.publish('webhook-relay.ops.events.inst-evil', JSON.stringify({ member: 'forged-3', instance: 'inst-evil', events: [forgedWebhook('forged-webhook', 'inst-evil')] }));
    forger.publish('webhook-relay.ops.events.inst-a', JSON.stringify({ member: 'forged-4', instance: 'inst-a', events: [forgedWebhook('forged-webhook-a', 'inst-a')] }));
    await forger.flush();
    const done = await waitFor(
      'a real done event from inst-a',
      async () => {
        await postWebhook(b.url, 'orders', order('FORGED-1'), { 'webhook-id': `forged-real-${Date.now()}` });
        return sse!.named('webhook').find((e) => e.data.outcome === 'done' && e.data.id.startsWith('forged-real-'));
      },
      { intervalMs: 300 },
    );
    expect(done.data.instance).to.equal('inst-a');
    expect(sse.named('webhook').map((e) => e.data.id)).to.not.include.members(['forged-webhook', 'forged-webhook-a']);

    const view = await json(`${b.url}/actors`);
    expect(view.dependencies.map((d: any) => d.name)).to.include('audnex').and.not.include.members(['forged-dep', 'forged-dep-b']);
    expect(view.dependencies.every((d: any) => d.instance === 'inst-a')).to.equal(true);
  });

  it('refuses an answer from a process it waits for that claims more than a process can export', async () => {
    const presence = { member: 'forged-worker', instance: 'inst-b', pid: 777, role: 'edgeProcess', processing: false, startedAt: Date.now() };
    const announce = (extra: object = {}) => forger.publish(PRESENCE, JSON.stringify({ ...presence, ...extra }));
    // It beats like a process, answers what a process answers, and so is waited for.
    subscriptions.push(forger.subscribe(PRESENCE, { callback: (_e, msg) => void (msg.reply && msg.respond(JSON.stringify(presence))) }));
    const beat = setInterval(() => announce(), 1000);
    try {
      const before = await json(`${b.url}/stats`);
      let claim: (m: any) => any = (m) => m;
      answer('webhook-relay.ops.metrics', () => claim(inflated(realReply, presence.member, presence.instance, 0)));
      answer('webhook-relay.ops.metrics.inst-b', () => claim(inflated(realReply, presence.member, presence.instance, 0)));
      await forger.flush();
      announce({ hello: true });
      const joined = await waitFor('the forged worker counted', async () => {
        const s = await json(`${b.url}/stats`);
        return s.covers.processes === 3 ? s : undefined;
      });
      expect(joined.received).to.equal(before.received);

      const series = Array.from({ length: 30_000 }, (_, i) => ({ value: 1, labels: { k: `v${i}`, instance_id: 'inst-b' } }));
      const claims: [string, (m: any) => any][] = [
        ['30,000 series', (m) => ({ ...m, metrics: [...m.metrics, { name: 'webhook_relay_injected_total', help: 'x', type: 'counter', aggregator: 'sum', values: series }] })],
        [
          'an aggregator prom-client does not have',
          (m) => ({ ...m, metrics: [...m.metrics, { name: 'webhook_relay_injected_total', help: 'x', type: 'counter', aggregator: 'bogus', values: [{ value: 1, labels: { instance_id: 'inst-b' } }] }] }),
        ],
        ['a series name that breaks the text format', (m) => ({ ...m, metrics: [...m.metrics, { name: 'webhook_relay_injected_total', help: 'x', type: 'counter', aggregator: 'sum', values: [{ value: 1, labels: { instance_id: 'inst-b' }, metricName: 'webhook_relay_injected_total 1\nwebhook_relay_smuggled' }] }] })],
        ['a negative counter', (m) => inflated(m, m.member, m.instance, -1_000_000)],
        ['a counter too large to add up', (m) => inflated(m, m.member, m.instance, 1e308)],
        ['more delivery durations than a process keeps', (m) => ({ ...m, recentDurationsMs: Array.from({ length: 100_000 }, () => 1) })],
        ['series of another instance', (m) => ({ ...inflated(m, m.member, 'inst-a', 1_000_000), instance: m.instance })],
      ];
      for (const [what, c] of claims) {
        claim = c;
        const stats = await fetch(`${b.url}/stats`);
        expect(stats.status, what).to.equal(200);
        const s = (await stats.json()) as any;
        expect(s.received, what).to.equal(before.received);
        expect(s.p99Window, what).to.equal(before.p99Window);
        expect(s.covers.unanswered, what).to.deep.equal([{ instance: 'inst-b', pid: 777 }]);
        const text = await (await fetch(`${b.url}/metrics`)).text();
        const exposition = parsePrometheusText(text);
        expect(exposition.samples.filter((x) => x.name.startsWith('webhook_relay_injected') || x.name === 'webhook_relay_smuggled'), what).to.deep.equal([]);
      }
    } finally {
      clearInterval(beat);
      announce({ leaving: true });
    }
  });
});
