import { expect } from 'chai';
import { ServerError, type DependencyError } from '../../src/runtime/errors.js';
import { breakerRecordOf } from '../../src/runtime/dependencyMachine.js';
import { useFakeClock, FAKE_EPOCH } from '../helpers/fakeClock.js';
import { startControlled } from '../helpers/controlledDependency.js';

describe('dependencyMachine restored from the previous owner', () => {
  const clock = useFakeClock();
  const { flush } = clock;

  it('stays open until the restored probe time, then sends exactly one probe', async () => {
    const dep = startControlled({ breakerCooldownMs: 30_000 }, { state: 'open', openedAt: FAKE_EPOCH - 20_000, trips: 1, nextProbeAt: FAKE_EPOCH + 10_000 });
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
    const dep = startControlled({ breakerCooldownMs: 1000 }, { state: 'open', openedAt: FAKE_EPOCH, trips: 2, nextProbeAt: FAKE_EPOCH });
    await flush();
    expect(dep.breaker()).to.equal('halfOpen');
    dep.call('probe');
    await flush();
    dep.io[0]!.reject(new ServerError('fake', 503));
    await flush();
    expect(dep.breakerData()).to.include({ state: 'open', trips: 3, nextProbeAt: FAKE_EPOCH + 4000 });
  });

  it('opens after the threshold counting the restored consecutive failures', async () => {
    const dep = startControlled({ breakerThreshold: 3 }, { state: 'closed', consecutiveFailures: 2 });
    expect(dep.breaker()).to.equal('closed');
    dep.call('fails');
    await flush();
    dep.io[0]!.reject(new ServerError('fake', 500));
    await flush();
    expect(dep.breaker()).to.equal('open');
  });

  it('starts half-open with no probe out, and sends one', async () => {
    const dep = startControlled({}, { state: 'halfOpen', trips: 1 });
    expect(dep.breaker()).to.equal('halfOpen');
    dep.call('probe');
    dep.call('second');
    await flush();
    expect(dep.io).to.have.length(1);
  });

  it('honours a restored Retry-After pause and forgets one that has passed', async () => {
    const paused = startControlled({}, { state: 'closed', consecutiveFailures: 0, pausedUntil: FAKE_EPOCH + 5000 });
    paused.call('waits');
    await flush();
    expect(paused.io).to.have.length(0);
    expect(paused.value()).to.deep.equal({ closed: 'pausedForRetryAfter' });
    await clock.tickAsync(5000);
    expect(paused.io).to.have.length(1);
    const stale = startControlled({}, { state: 'closed', consecutiveFailures: 0, pausedUntil: FAKE_EPOCH - 1 });
    expect(stale.context().pausedUntil).to.equal(undefined);
  });

  it('hands over what it knows as a record', async () => {
    const dep = startControlled({ breakerThreshold: 1, breakerCooldownMs: 7000 });
    dep.call('fails');
    await flush();
    dep.io[0]!.reject(new ServerError('fake', 500));
    await flush();
    expect(breakerRecordOf(dep.actor.getSnapshot())).to.deep.equal({ state: 'open', openedAt: FAKE_EPOCH, trips: 1, nextProbeAt: FAKE_EPOCH + 7000, pausedUntil: undefined });
  });
});
