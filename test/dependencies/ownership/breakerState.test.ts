import { expect } from 'chai';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { KV } from '@nats-io/kv';
import { BreakerWriter, readBreaker } from '../../../src/dependencies/ownership/breakerState.js';
import { createLogger } from '../../../src/log.js';
import { TestNats } from '../../helpers/natsServer.js';
import { waitFor } from '../../helpers/waitFor.js';
import { ensureBuckets } from '../../../src/bus/topology.js';

const log = createLogger('silent');
const OPEN = { state: 'open', trips: 1, probeInMs: 30_000 } as const;
const CLOSED = { state: 'closed', consecutiveFailures: 0 } as const;

describe('BreakerWriter on a real KV bucket', function () {
  this.timeout(60_000);
  let nats: TestNats;
  let nc: NatsConnection;
  let state: KV;
  let key = 0;
  let name: string;

  before(async () => {
    nats = await TestNats.start();
    nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    ({ dependencyState: state } = await ensureBuckets(nc, [], { statusTtlMs: 60_000, replicas: 1 }));
  });

  beforeEach(() => {
    name = `dep${++key}`;
  });

  after(async () => {
    await nc.close();
    await nats.dispose();
  });

  const writer = (instance: string, token: number, revision?: number) => new BreakerWriter({ kv: state, name, owner: { instance, token }, revision, log, retryMs: 50 });

  it("refuses a deposed owner's write once the next owner has written", async () => {
    const old = writer('a', 1);
    old.write({ state: 'closed', consecutiveFailures: 1 });
    await old.flush();
    const handed = await readBreaker(state, name);
    expect(handed!.stored.breaker).to.deep.equal({ state: 'closed', consecutiveFailures: 1 });

    const stale = writer('a', 1, handed!.revision);
    const next = writer('b', 9, handed!.revision);
    next.write(OPEN);
    await next.flush();
    stale.write(CLOSED);
    await stale.flush();
    const now = await readBreaker(state, name);
    expect(now!.stored).to.include({ instance: 'b', token: 9 });
    expect(now!.stored.breaker.state).to.equal('open');
  });

  it("is not locked out by a deposed owner's write that lands between its read and its first write", async () => {
    const old = writer('a', 1);
    old.write(CLOSED);
    await old.flush();
    const takeover = await readBreaker(state, name);
    // The deposed owner's late write lands after the new owner read the record.
    old.write({ state: 'closed', consecutiveFailures: 4 });
    await old.flush();
    const next = writer('b', 9, takeover!.revision);
    next.write(OPEN);
    await next.flush();
    const stored = await readBreaker(state, name);
    expect(stored!.stored).to.include({ instance: 'b', token: 9 });
    expect(stored!.stored.breaker).to.deep.equal(OPEN);
    // And the deposed owner is now fenced off for good.
    old.write(CLOSED);
    await old.flush();
    expect((await readBreaker(state, name))!.stored.token).to.equal(9);
  });

  it('writes the latest record after a write fails (the server was away), instead of stopping for the rest of its term', async () => {
    const owner = writer('a', 3);
    owner.write(CLOSED);
    await owner.flush();
    await nats.stop();
    owner.write(OPEN);
    await nats.restart();
    await waitFor('the open breaker written once the server is back', async () => (await readBreaker(state, name).catch(() => undefined))?.stored.breaker.state === 'open', { timeoutMs: 30_000 });
    owner.write({ state: 'halfOpen', trips: 1 });
    await owner.flush();
    expect((await readBreaker(state, name))!.stored.breaker).to.deep.equal({ state: 'halfOpen', trips: 1 });
  });
});
