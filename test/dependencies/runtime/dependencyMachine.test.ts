import { expect } from 'chai';
import { RateLimitedError, RejectedError, ServerError, type DependencyError } from '../../../src/dependencies/runtime/errors.js';
import type { DepTransitionEvent } from '../../../src/dependencies/runtime/dependencyEvents.js';
import { useFakeClock } from '../../helpers/fakeClock.js';
import { startControlled, type Tracked } from '../../helpers/controlledDependency.js';

const T0 = 1_700_000_000_000;

describe('dependencyMachine', () => {
  const clock = useFakeClock({ now: T0 });
  const { flush } = clock;
  const errorOf = (t: Tracked) => t.error as DependencyError;

  /** Fails `n` calls with a 500, one after another. */
  async function failCalls(dep: ReturnType<typeof startControlled>, n: number) {
    const calls = Array.from({ length: n }, (_, i) => dep.call(`fail-${i}`));
    for (let i = 0; i < n; i++) {
      await flush();
      dep.io.at(-1)!.reject(new ServerError('fake', 500));
      await flush();
    }
    return calls;
  }

  describe('closed', () => {
    it('starts closed and answers a call with its result', async () => {
      const dep = startControlled();
      expect(dep.breaker()).to.equal('closed');
      const call = dep.call('hello');
      await flush();
      expect(dep.io.map((c) => c.request)).to.deep.equal(['hello']);
      dep.io[0]!.resolve('world');
      await flush();
      expect(call).to.deep.include({ settled: true, value: 'world' });
      expect(dep.context().counters).to.deep.equal({ ok: 1, failed: 0, rejected: 0 });
      expect(dep.context().inFlight).to.have.length(0);
      expect(Object.keys(dep.actor.getSnapshot().children)).to.deep.equal([]);
    });

    it('runs at most `concurrency` calls at once and keeps the rest in the mailbox', async () => {
      const dep = startControlled({ concurrency: 2, rate: 1000, burst: 10 });
      const calls = [1, 2, 3, 4].map((n) => dep.call(n));
      await flush();
      expect(dep.io).to.have.length(2);
      expect(dep.value()).to.deep.equal({ closed: 'waitingForSlot' });
      expect(dep.context().mailbox).to.have.length(2);
      dep.io[0]!.resolve('a');
      await flush();
      expect(dep.io.map((c) => c.request)).to.deep.equal([1, 2, 3]);
      expect(calls[0]).to.deep.include({ settled: true, value: 'a' });
      expect(calls[3]!.settled).to.equal(false);
    });

    it('starts calls no faster than its rate', async () => {
      const dep = startControlled({ rate: 2, burst: 1, concurrency: 5 });
      [1, 2, 3].forEach((n) => dep.call(n));
      await flush();
      expect(dep.io).to.have.length(1);
      expect(dep.value()).to.deep.equal({ closed: 'waitingForToken' });
      await clock.tickAsync(499);
      expect(dep.io).to.have.length(1);
      await clock.tickAsync(1);
      expect(dep.io).to.have.length(2);
      await clock.tickAsync(500);
      expect(dep.io).to.have.length(3);
      expect(dep.events.some((e) => e.type === 'dep.waiting' && e.reason === 'rateLimit')).to.equal(true);
    });

    it('lets `burst` calls start back to back after a quiet spell', async () => {
      const dep = startControlled({ rate: 1, burst: 3, concurrency: 5 });
      [1, 2, 3, 4].forEach((n) => dep.call(n));
      await flush();
      expect(dep.io).to.have.length(3);
    });

    it('drops a queued call whose caller stopped waiting, without sending it, and starts the next', async () => {
      const dep = startControlled({ concurrency: 1, rate: 1000, burst: 10 });
      const first = dep.call('slow');
      const late = dep.call('late', { startBy: T0 + 100 });
      const patient = dep.call('patient', { startBy: T0 + 10_000 });
      await flush();
      await clock.tickAsync(150);
      dep.io[0]!.resolve('done');
      await flush();
      expect(first).to.deep.include({ settled: true, value: 'done' });
      expect(late.settled).to.equal(true);
      expect(errorOf(late).code).to.equal('DEP_OVERLOADED');
      expect(errorOf(late).message).to.match(/stopped waiting after 150 ms/);
      expect(dep.io.map((c) => c.request), 'the late call never reached the dependency').to.deep.equal(['slow', 'patient']);
      expect(dep.context().counters.rejected).to.equal(1);
      expect(patient.settled).to.equal(false);
    });

    it('refuses a call with DEP_OVERLOADED when maxQueue calls already wait', async () => {
      const dep = startControlled({ maxQueue: 2 });
      dep.call('in flight');
      dep.call('waiting 1');
      dep.call('waiting 2');
      const refused = dep.call('one too many');
      await flush();
      expect(errorOf(refused).code).to.equal('DEP_OVERLOADED');
      expect(errorOf(refused).retriable).to.equal(true);
      expect(dep.context().mailbox).to.have.length(2);
      expect(dep.context().counters.rejected).to.equal(1);
      expect(dep.io).to.have.length(1);
    });

    it('aborts the I/O and fails with DEP_TIMEOUT when a call outlives timeoutMs', async () => {
      const dep = startControlled({ timeoutMs: 1000 });
      const call = dep.call('slow');
      await flush();
      const { signal } = dep.io[0]!.ctx;
      await clock.tickAsync(999);
      expect(signal.aborted).to.equal(false);
      expect(call.settled).to.equal(false);
      await clock.tickAsync(1);
      expect(signal.aborted).to.equal(true);
      expect(errorOf(call).code).to.equal('DEP_TIMEOUT');
      expect(errorOf(call).retriable).to.equal(true);
      expect(dep.breakerData()).to.deep.equal({ state: 'closed', consecutiveFailures: 1 });
    });

    it('opens after five consecutive failures', async () => {
      const dep = startControlled({ rate: 1000, burst: 10 });
      await failCalls(dep, 4);
      expect(dep.breaker()).to.equal('closed');
      await failCalls(dep, 1);
      expect(dep.breaker()).to.equal('open');
      expect(dep.io).to.have.length(5);
    });

    it('starts counting again after a success', async () => {
      const dep = startControlled({ rate: 1000, burst: 10 });
      await failCalls(dep, 4);
      dep.call('ok');
      await flush();
      dep.io.at(-1)!.resolve('fine');
      await flush();
      await failCalls(dep, 4);
      expect(dep.breaker()).to.equal('closed');
      expect(dep.breakerData()).to.deep.equal({ state: 'closed', consecutiveFailures: 4 });
    });

    it('does not count permanent (4xx) failures toward the breaker', async () => {
      const dep = startControlled({ rate: 1000, burst: 10 });
      const calls = Array.from({ length: 8 }, (_, i) => dep.call(i));
      for (let i = 0; i < 8; i++) {
        await flush();
        dep.io.at(-1)!.reject(new RejectedError('fake', 'HTTP 400', { upstreamStatus: 400 }));
      }
      await flush();
      expect(dep.breaker()).to.equal('closed');
      expect(calls.every((c) => errorOf(c).code === 'DEP_REJECTED' && !errorOf(c).retriable)).to.equal(true);
      expect(dep.context().counters.failed).to.equal(8);
    });

    it('pauses every call until a 429 Retry-After has passed', async () => {
      const dep = startControlled({ rate: 1000, burst: 10, concurrency: 3 });
      const limited = dep.call('first');
      await flush();
      dep.io[0]!.reject(new RateLimitedError('fake', 2000));
      await flush();
      expect(errorOf(limited).code).to.equal('DEP_RATE_LIMITED');
      expect(errorOf(limited).retryAfterMs).to.equal(2000);
      dep.call('second');
      dep.call('third');
      await flush();
      expect(dep.value()).to.deep.equal({ closed: 'pausedForRetryAfter' });
      await clock.tickAsync(1999);
      expect(dep.io).to.have.length(1);
      await clock.tickAsync(1);
      expect(dep.io.map((c) => c.request)).to.deep.equal(['first', 'second', 'third']);
    });
  });

  describe('events', () => {
    it('emits each breaker transition with its reason, queue length and next probe time', async () => {
      const dep = startControlled({ breakerThreshold: 2, breakerCooldownMs: 500, rate: 1000, burst: 10 });
      dep.call('a');
      dep.call('b');
      dep.call('c');
      for (let i = 0; i < 2; i++) {
        await flush();
        dep.io.at(-1)!.reject(new ServerError('fake', 500));
      }
      await flush();
      await clock.tickAsync(500);
      const transitions = dep.events.filter((e): e is DepTransitionEvent => e.type === 'dep.transition');
      expect(transitions.map((t) => [t.from, t.to])).to.deep.equal([
        [undefined, 'closed'],
        ['closed', 'open'],
        ['open', 'halfOpen'],
      ]);
      expect(transitions[0]!.reason).to.equal('started');
      expect(transitions[1]).to.deep.include({
        reason: '2 consecutive failures, last DEP_SERVER_ERROR',
        queueLength: 0,
        inFlight: 0,
        nextProbeAt: Date.now(),
      });
      expect(transitions[2]!.reason).to.equal('cool-down of 500 ms elapsed');
    });
  });

  describe('call events', () => {
    it('reports each call start, end and refusal with timings and codes', async () => {
      const dep = startControlled({ maxQueue: 1, rate: 1000, burst: 5 });
      dep.call('a');
      dep.call('waits');
      dep.call('refused');
      await flush();
      await clock.tickAsync(40);
      dep.io[0]!.reject(new ServerError('fake', 500));
      await flush();
      // Which trace context they carry is covered by test/tracing/webhookTrace.test.ts.
      const calls = dep.events.filter((e) => e.type !== 'dep.transition' && e.type !== 'dep.waiting').map((e) => ('trace' in e ? { ...e, trace: 'carried' } : e));
      expect(calls).to.deep.equal([
        { type: 'dep.callStarted', dependency: 'fake', callId: 'call-1', waitedMs: 0, probe: false, queueLength: 0, inFlight: 1, at: T0, trace: 'carried' },
        { type: 'dep.callRefused', dependency: 'fake', code: 'DEP_OVERLOADED', queueLength: 1, at: T0, trace: 'carried' },
        { type: 'dep.callSettled', dependency: 'fake', callId: 'call-1', outcome: 'failed', code: 'DEP_SERVER_ERROR', durationMs: 40, at: T0 + 40 },
        { type: 'dep.callStarted', dependency: 'fake', callId: 'call-2', waitedMs: 40, probe: false, queueLength: 0, inFlight: 1, at: T0 + 40, trace: 'carried' },
      ]);
    });
  });

  describe('costs', () => {
    it('draws a per-call cost from an extra bucket and applies the correction reported after the call', async () => {
      const dep = startControlled({ rate: 100, burst: 10, concurrency: 5, extraLimits: { tokens: { rate: 10, burst: 100 } } });
      dep.call('big', { cost: { tokens: 80 } });
      await flush();
      dep.io[0]!.ctx.charge('tokens', 15);
      dep.io[0]!.resolve('done');
      await flush();
      expect(dep.context().buckets.tokens!.tokens).to.equal(5);
      dep.call('next', { cost: { tokens: 10 } });
      await flush();
      expect(dep.io).to.have.length(1);
      expect(dep.value()).to.deep.equal({ closed: 'waitingForToken' });
      await clock.tickAsync(500);
      expect(dep.io).to.have.length(2);
    });
  });
});
