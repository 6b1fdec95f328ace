import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { SseBroadcaster } from '../../src/ops/sse.js';
import type { LiveEvent, LiveListener, OpsReader } from '../../src/ops/opsReader.js';
import { SseClient } from '../helpers/sseClient.js';
import { waitFor } from '../helpers/waitFor.js';

/** An operating view that only has a live feed, pushed by the test. */
class FeedOnly implements OpsReader {
  listeners = new Set<LiveListener>();
  stats = () => Promise.reject(new Error('unused'));
  actors = () => Promise.reject(new Error('unused'));
  recent = () => Promise.reject(new Error('unused'));
  metrics = () => Promise.reject(new Error('unused'));
  subscribe(l: LiveListener) {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  push(batch: LiveEvent[]) {
    for (const l of this.listeners) l(batch);
  }
  stop() {}
}

const bigEvent = (n: number): LiveEvent => ({ type: 'suppressed', count: n, at: Date.now(), padding: 'x'.repeat(64 * 1024) } as LiveEvent);

describe('SseBroadcaster', () => {
  let server: Server;
  let url: string;
  let feed: FeedOnly;
  let sse: SseBroadcaster;
  let dropped: number;
  let clients: number;
  const open: SseClient[] = [];

  beforeEach(async () => {
    feed = new FeedOnly();
    dropped = 0;
    clients = 0;
    sse = new SseBroadcaster(feed, { heartbeatMs: 100, maxBufferedBytes: 128 * 1024, onDropped: (n) => (dropped += n), onClients: (n) => (clients = n) });
    server = createServer((_req, res) => sse.add(res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  afterEach(async () => {
    for (const c of open.splice(0)) c.close();
    sse.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const connect = async () => {
    const c = await SseClient.connect(url);
    open.push(c);
    return c;
  };

  it('subscribes to the feed only while it has clients', async () => {
    expect(feed.listeners.size).to.equal(0);
    const c = await connect();
    await waitFor('registered', () => clients === 1);
    expect(feed.listeners.size).to.equal(1);
    c.close();
    await waitFor('unregistered', () => clients === 0);
    expect(feed.listeners.size).to.equal(0);
  });

  it('sends a heartbeat comment to idle clients', async () => {
    const c = await connect();
    await waitFor('two heartbeats', () => c.comments.filter((x) => x.startsWith('keep-alive')).length >= 2, { timeoutMs: 2000 });
  });

  it('drops events for a client that does not read, keeps serving the others, and tells the slow one what it missed', async () => {
    const slow = await connect();
    const fast = await connect();
    await waitFor('both registered', () => clients === 2);
    slow.pause();
    let sent = 0;
    const started = Date.now();
    // Push until the slow client's socket and buffer are full and events start to drop.
    while (dropped === 0 && sent < 2000) {
      feed.push([bigEvent(++sent)]);
      await new Promise((r) => setImmediate(r));
    }
    expect(dropped, 'events dropped').to.be.greaterThan(0);
    expect(Date.now() - started, 'pushing never waits for the slow client').to.be.below(5000);
    await waitFor('the fast client got every event', () => fast.named('suppressed').length === sent);

    slow.resume();
    // Once its buffer has room again, the next event brings a notice of how many it missed.
    const notice = await waitFor('a dropped notice', () => {
      feed.push([bigEvent(++sent)]);
      return slow.named('dropped')[0];
    });
    expect(notice.data.count).to.equal(dropped);
    await waitFor('the next event after the gap', () => slow.named('suppressed').some((e) => e.data.count === sent));
  });
});
