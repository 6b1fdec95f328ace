import { expect } from 'chai';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { createLogger } from '../../../src/log.js';
import { decodeEnvelope, encodeWire } from '../../../src/dependencies/ownership/callWire.js';
import { estimatedWaitMs, REPLY_MARGIN_MS, serveCalls } from '../../../src/dependencies/ownership/callServer.js';
import { createRoutedCaller } from '../../../src/dependencies/ownership/routedCaller.js';
import type { CallOptions, DependencyCaller } from '../../../src/dependencies/runtime/caller.js';
import { CircuitOpenError, RateLimitedError, isBadCallError, isCircuitOpenError, isRateLimitedError, type DependencyError } from '../../../src/dependencies/runtime/errors.js';
import type { DependencyStatus } from '../../../src/dependencies/runtime/status.js';
import { failureOf } from '../../helpers/outcomes.js';
import { TestNats } from '../../helpers/natsServer.js';

const log = createLogger('silent');

function statusWith(queueLength: number, over: Partial<DependencyStatus> = {}): DependencyStatus {
  return {
    name: 'fake',
    state: 'closed',
    activity: 'idle',
    since: 0,
    reason: '',
    queueLength,
    inFlight: 0,
    counters: { ok: 0, failed: 0, rejected: 0 },
    limits: { rate: 2, burst: 1, concurrency: 1, maxQueue: 100, timeoutMs: 1000 },
    tokens: {},
    tokenCapacity: {},
    nextProbeAt: undefined,
    pausedUntil: undefined,
    restarts: 0,
    callMs: undefined,
    ...over,
  };
}

describe('call envelope', () => {
  it('refuses what is not a call with DEP_BAD_CALL, naming what is wrong', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    for (const [junk, why] of [
      ['{', 'not JSON'],
      ['[1]', 'not a JSON object'],
      ['{"request": "x", "deadlineMs": 5}', '`request`'],
      ['{"request": {}, "deadlineMs": -1}', '`deadlineMs`'],
    ] as const) {
      let error: unknown;
      try {
        decodeEnvelope('fake', enc(junk));
      } catch (e) {
        error = e;
      }
      expect(isBadCallError(error), junk).to.equal(true);
      expect((error as Error).message).to.contain(why);
    }
  });

  it('carries byte arrays as bytes', () => {
    const content = new Uint8Array([0, 1, 2, 250]);
    const back = decodeEnvelope('fake', encodeWire({ request: { kind: 'upload', content }, deadlineMs: 10 }));
    expect((back.request as { content: Uint8Array }).content).to.be.instanceOf(Uint8Array).and.deep.equal(content);
  });
});

describe('estimatedWaitMs', () => {
  it('counts the calls ahead at the rate, after a 429 pause', () => {
    expect(estimatedWaitMs(statusWith(0), 0)).to.equal(0);
    expect(estimatedWaitMs(statusWith(4), 0)).to.equal(2000);
    expect(estimatedWaitMs(statusWith(4, { pausedUntil: 500 }), 0)).to.equal(2500);
  });

  it('counts the rounds of calls in flight and queued ahead that must end before a slot is free', () => {
    const slow = { callMs: 3000, limits: { rate: 100, burst: 100, concurrency: 2, maxQueue: 100, timeoutMs: 10_000 } };
    // Both slots busy, nothing queued: one round of 3 s before a slot frees.
    expect(estimatedWaitMs(statusWith(0, { ...slow, inFlight: 2 }), 0)).to.equal(3000);
    // Both busy and three queued ahead: four calls must end first, two rounds.
    expect(estimatedWaitMs(statusWith(3, { ...slow, inFlight: 2 }), 0)).to.equal(6000);
    // A free slot and nobody ahead: no wait, however slow calls are.
    expect(estimatedWaitMs(statusWith(0, { ...slow, inFlight: 1 }), 0)).to.equal(0);
  });
});

describe('routed caller and call server over NATS', () => {
  let nats: TestNats;
  let owner: NatsConnection;
  let caller: NatsConnection;
  let sub: Subscription | undefined;
  let owning = true;
  let status = statusWith(0);
  let answer: (request: unknown) => Promise<unknown> = async (request) => ({ echoed: request });
  let lastOptions: CallOptions | undefined;
  const local: DependencyCaller<unknown> = {
    name: 'fake',
    call: <R>(request: unknown, options?: CallOptions) => {
      lastOptions = options;
      return answer(request) as Promise<R>;
    },
  };
  const neverLocal: DependencyCaller<unknown> = { name: 'fake', call: () => Promise.reject(new Error('must not be called locally')) };

  before(async () => {
    nats = await TestNats.start();
    owner = await connect({ servers: nats.url });
    caller = await connect({ servers: nats.url });
  });

  // Flushed, so the server knows of each (un)subscription before the next request.
  beforeEach(async () => {
    owning = true;
    status = statusWith(0);
    answer = async (request) => ({ echoed: request });
    sub = serveCalls({
      nc: owner,
      local,
      parseRequest: (r) => {
        if ((r as { kind?: unknown }).kind === 'drop') throw new Error('fake: unknown kind drop');
        return r;
      },
      maxDeadlineMs: 60_000,
      isOwner: () => owning,
      status: () => status,
      log,
    });
    await owner.flush();
  });

  afterEach(async () => {
    sub?.unsubscribe();
    await owner.flush();
  });

  after(async () => {
    await owner.close();
    await caller.close();
    await nats.dispose();
  });

  const remote = (deadlineMs = 5000) => createRoutedCaller(neverLocal, { isOwner: () => false, nc: () => caller, deadlineMs });

  it('calls the local actor while it owns the dependency', async () => {
    const routed = createRoutedCaller(local, { isOwner: () => true, nc: () => undefined, deadlineMs: 1000 });
    expect(await routed.call({ asin: 'A' })).to.deep.equal({ echoed: { asin: 'A' } });
  });

  it('forwards to the owner and returns its result', async () => {
    expect(await remote().call({ kind: 'book', asin: 'B08G9PRS1K' })).to.deep.equal({ echoed: { kind: 'book', asin: 'B08G9PRS1K' } });
  });

  it("rethrows the owner's error as the same class, code and retry hint", async () => {
    answer = () => Promise.reject(new CircuitOpenError('fake', 4200));
    const open = await failureOf(remote().call({}));
    expect(open).to.be.instanceOf(CircuitOpenError);
    expect(isCircuitOpenError(open)).to.equal(true);
    expect(open.retryAfterMs).to.equal(4200);
    expect(open.retriable).to.equal(true);
    expect(open.message).to.equal('fake: circuit open, next probe in 4200 ms');
    answer = () => Promise.reject(new RateLimitedError('fake', 3000));
    const limited = await failureOf(remote().call({}));
    expect(isRateLimitedError(limited)).to.equal(true);
    expect(limited.upstreamStatus).to.equal(429);
  });

  it("gives the mailbox the last moment a call can start and still end before its caller gives up", async () => {
    const before = Date.now();
    await remote(5000).call({ kind: 'book' });
    const after = Date.now();
    // 5 s deadline, less the 1 s call timeout and the reply margin: a call starting later could not answer in time.
    expect(lastOptions?.startBy).to.be.within(before + 5000 - 1000 - REPLY_MARGIN_MS, after + 5000 - 1000 - REPLY_MARGIN_MS);
  });

  it('refuses up front with DEP_OVERLOADED when the queue cannot serve the call before its deadline', async () => {
    let called = false;
    answer = async () => (called = true);
    status = statusWith(10); // 5 s of queue at 2 calls/s, plus a 1 s timeout
    const e = await failureOf(remote(5000).call({}));
    expect(e.code).to.equal('DEP_OVERLOADED');
    expect(e.retriable).to.equal(true);
    expect(called).to.equal(false);
    expect(await remote(7000).call({})).to.equal(true);
  });

  it('refuses a request the dependency does not know with DEP_BAD_CALL, without calling it', async () => {
    let called = false;
    answer = async () => (called = true);
    const e = await failureOf(remote().call({ kind: 'drop' }));
    expect(e.code).to.equal('DEP_BAD_CALL');
    expect(e.retriable).to.equal(false);
    expect(called).to.equal(false);
  });

  it('answers DEP_OWNER_UNAVAILABLE once its lease has ended', async () => {
    owning = false;
    const e = await failureOf(remote().call({}));
    expect(e.code).to.equal('DEP_OWNER_UNAVAILABLE');
  });

  it('fails a forwarded call at once when the lease passes to another instance', async () => {
    answer = () => new Promise(() => undefined); // the old owner never answers
    const term = new AbortController();
    const routed = createRoutedCaller(neverLocal, { isOwner: () => false, nc: () => caller, deadlineMs: 30_000, ownerTerm: () => term.signal });
    const pending = failureOf(routed.call({}));
    await caller.flush();
    const changedAt = Date.now();
    term.abort();
    const e = await pending;
    expect(e.code).to.equal('DEP_OWNER_UNAVAILABLE');
    expect(e.message).to.contain('owner changed');
    expect(Date.now() - changedAt).to.be.below(1000);
  });

  it('fails retriably with DEP_OWNER_UNAVAILABLE when no owner answers', async () => {
    sub!.unsubscribe();
    await owner.flush();
    const e: DependencyError = await failureOf(remote().call({}));
    expect(e.code).to.equal('DEP_OWNER_UNAVAILABLE');
    expect(e.retriable).to.equal(true);
  });
});
