import { expect } from 'chai';
import sinon from 'sinon';
import { LiveFeed } from '../../src/ops/liveFeed.js';
import type { LiveEvent } from '../../src/ops/opsReader.js';

const webhook = (id: string): LiveEvent => ({ type: 'webhook', instance: 'a', outcome: 'done', source: 'orders', id, seq: 1, deliveries: 1, durationMs: 1, at: 0 });
const actor: LiveEvent = { type: 'actor', instance: 'a', cause: 'transition', dependency: 'audnex', from: 'closed', to: 'open', reason: 'r', at: 0, status: undefined };

describe('LiveFeed', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers();
  });
  afterEach(() => {
    clock.restore();
  });

  it('delivers events pushed within one flush interval as one batch', () => {
    const feed = new LiveFeed({ flushMs: 100, snapshot: async () => actor });
    const batches: (readonly LiveEvent[])[] = [];
    feed.subscribe((b) => batches.push(b));
    feed.push(webhook('a'));
    feed.push(actor);
    clock.tick(99);
    expect(batches).to.have.length(0);
    clock.tick(1);
    expect(batches).to.deep.equal([[webhook('a'), actor]]);
  });

  it('caps webhook events per batch and reports the rest as suppressed, never actor events', () => {
    const feed = new LiveFeed({ flushMs: 100, maxWebhookEventsPerFlush: 2, snapshot: async () => actor });
    const batches: (readonly LiveEvent[])[] = [];
    feed.subscribe((b) => batches.push(b));
    for (const id of ['a', 'b', 'c', 'd']) feed.push(webhook(id));
    feed.push(actor);
    clock.tick(100);
    expect(batches[0]!.map((e) => e.type)).to.deep.equal(['webhook', 'webhook', 'actor', 'suppressed']);
    expect(batches[0]![3]).to.include({ count: 2 });
  });

  it('buffers nothing while no one listens', () => {
    const feed = new LiveFeed({ flushMs: 100, snapshot: async () => actor });
    feed.push(webhook('a'));
    expect(feed.active).to.equal(false);
    const batches: (readonly LiveEvent[])[] = [];
    const unsubscribe = feed.subscribe((b) => batches.push(b));
    clock.tick(1000);
    expect(batches).to.deep.equal([]);
    unsubscribe();
    expect(feed.active).to.equal(false);
  });

  it('sends a snapshot every interval while someone listens', async () => {
    const snapshot = sinon.stub().resolves({ type: 'suppressed', count: 0, at: 0 } satisfies LiveEvent);
    const feed = new LiveFeed({ snapshotMs: 2000, snapshot });
    const batches: (readonly LiveEvent[])[] = [];
    const unsubscribe = feed.subscribe((b) => batches.push(b));
    await clock.tickAsync(4000);
    expect(snapshot.callCount).to.equal(2);
    expect(batches).to.have.length(2);
    unsubscribe();
    await clock.tickAsync(4000);
    expect(snapshot.callCount).to.equal(2);
  });
});
