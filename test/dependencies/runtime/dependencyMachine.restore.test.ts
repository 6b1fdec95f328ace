import { expect } from 'chai';
import { ServerError, type DependencyError } from '../../../src/dependencies/runtime/errors.js';
import { breakerRecordOf } from '../../../src/dependencies/runtime/dependencyMachine.js';
import { useFakeClock, FAKE_EPOCH } from '../../helpers/fakeClock.js';
import { startControlled } from '../../helpers/controlledDependency.js';

describe('dependencyMachine restored from the previous owner', () => {
  const clock = useFakeClock();
  const { flush } = clock;

  it('stays open until the restored probe time, then sends exactly one probe', async () => {
    const dep = startControlled({ breakerCooldownMs: 30_000 }, { state: 'open', trips: 1, probeInMs: 10_000 });
    expect(dep.breaker()).to.equal('open');
    const refused = dep.call('early');
    await flush();
    expect((refused.error as DependencyError).code).to.equal('DEP_CIRCUIT_OPEN');
    expect((refused.error as DependencyError).retryAfterMs).to.equal(10_000);
    await clock.tickAsync(9_999);
    expect(dep.breaker()).to.equal('open');
    await clock.tickAsync(1);
    expect(dep.breaker()).to.equal('halfOpen');
    dep.call('probe');
    dep.call('waits');
    await flush();
    expect(dep.io.map((c) => c.request)).to.deep.equal(['probe']);
  });

  it('doubles the next cool-down from the restored trips', async () => {
    const dep = startControlled({ breakerCooldownMs: 1000, rate: 1000 }, { state: 'open', trips: 2, probeInMs: 0 });
    await flush();
    expect(dep.breaker()).to.equal('halfOpen');
    dep.call('probe');
    await clock.tickAsync(1);
    dep.io[0]!.reject(new ServerError('fake', 503));
    await flush();
    expect(dep.breakerData()).to.include({ state: 'open', trips: 3, nextProbeAt: FAKE_EPOCH + 1 + 4000 });
  });

  it('opens after the threshold counting the restored consecutive failures', async () => {
    const dep = startControlled({ breakerThreshold: 3, rate: 1000 }, { state: 'closed', consecutiveFailures: 2 });
    expect(dep.breaker()).to.equal('closed');
    dep.call('fails');
    await clock.tickAsync(1);
    dep.io[0]!.reject(new ServerError('fake', 500));
    await flush();
    expect(dep.breaker()).to.equal('open');
  });

  it('starts half-open with no probe out, and sends one', async () => {
    const dep = startControlled({ rate: 1000, burst: 10 }, { state: 'halfOpen', trips: 1 });
    expect(dep.breaker()).to.equal('halfOpen');
    dep.call('probe');
    dep.call('second');
    await clock.tickAsync(10);
    expect(dep.io).to.have.length(1);
  });

  it('honours a restored Retry-After pause and forgets one that has passed', async () => {
    const paused = startControlled({}, { state: 'closed', consecutiveFailures: 0, pausedForMs: 5000 });
    paused.call('waits');
    await flush();
    expect(paused.io).to.have.length(0);
    expect(paused.value()).to.deep.equal({ closed: 'pausedForRetryAfter' });
    await clock.tickAsync(5000);
    // The pause has passed, and so has a second: the one token the empty bucket needed.
    expect(paused.io).to.have.length(1);
    const stale = startControlled({}, { state: 'closed', consecutiveFailures: 0, pausedForMs: 0 });
    expect(stale.context().pausedUntil).to.equal(undefined);
  });

  it('starts with empty buckets, so a call just before the handover and one just after keep to the rate', async () => {
    const old = startControlled({ rate: 1, burst: 1 });
    old.call('before');
    await flush();
    expect(old.io).to.have.length(1);
    await clock.tickAsync(142);
    // The new owner takes over 142 ms later from what the old one recorded.
    const next = startControlled({ rate: 1, burst: 1 }, breakerRecordOf(old.actor.getSnapshot(), Date.now()));
    next.call('after');
    await clock.tickAsync(857);
    expect(next.io, 'a call 142 ms after the last one, at 1 call/s').to.have.length(0);
    await clock.tickAsync(1000);
    expect(next.io).to.have.length(1);
  });

  it('carries a token debt to the next owner: an LLM call charged more than it reserved', async () => {
    const old = startControlled({ rate: 1000, burst: 10, extraLimits: { tokens: { rate: 10, burst: 600 } } });
    old.call('big', { cost: { tokens: 600 } });
    await flush();
    old.io[0]!.ctx.charge('tokens', 400);
    old.io[0]!.resolve('done');
    await flush();
    const record = breakerRecordOf(old.actor.getSnapshot(), Date.now());
    expect(record.debt).to.deep.equal({ tokens: 400 });
    const next = startControlled({ rate: 1000, burst: 10, extraLimits: { tokens: { rate: 10, burst: 600 } } }, record);
    next.call('small', { cost: { tokens: 100 } });
    // 400 owed plus 100 for this call, at 10 tokens a second.
    await clock.tickAsync(49_999);
    expect(next.io).to.have.length(0);
    await clock.tickAsync(1);
    expect(next.io).to.have.length(1);
  });

  it('hands over what it knows as a record', async () => {
    const dep = startControlled({ breakerThreshold: 1, breakerCooldownMs: 7000 });
    dep.call('fails');
    await flush();
    dep.io[0]!.reject(new ServerError('fake', 500));
    await flush();
    expect(breakerRecordOf(dep.actor.getSnapshot(), FAKE_EPOCH)).to.deep.equal({ state: 'open', trips: 1, probeInMs: 7000 });
    // Durations from when it is read, never another machine's clock.
    expect(breakerRecordOf(dep.actor.getSnapshot(), FAKE_EPOCH + 2000)).to.deep.equal({ state: 'open', trips: 1, probeInMs: 5000 });
  });
});
