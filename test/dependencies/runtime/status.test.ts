import { expect } from 'chai';
import { RateLimitedError, ServerError } from '../../../src/dependencies/runtime/errors.js';
import { availabilityOf, describeDependency } from '../../../src/dependencies/runtime/status.js';
import { useFakeClock } from '../../helpers/fakeClock.js';
import { startControlled } from '../../helpers/controlledDependency.js';

describe('describeDependency', () => {
  const T0 = 1_700_000_000_000;
  const clock = useFakeClock({ now: T0 });
  const { flush } = clock;

  it('shows what GET /actors needs while calls flow', async () => {
    const dep = startControlled({ rate: 2, burst: 2, concurrency: 1 });
    dep.call('a');
    dep.call('b');
    dep.call('c');
    await flush();
    const status = describeDependency(dep.actor.getSnapshot(), 0, Date.now());
    expect(status).to.deep.equal({
      name: 'fake',
      state: 'closed',
      activity: 'waitingForSlot',
      since: T0,
      reason: 'started',
      queueLength: 2,
      inFlight: 1,
      counters: { ok: 0, failed: 0, rejected: 0 },
      limits: { rate: 2, burst: 2, concurrency: 1, maxQueue: 100, timeoutMs: 10_000 },
      tokens: { calls: 1 },
      tokenCapacity: { calls: 2 },
      nextProbeAt: undefined,
      pausedUntil: undefined,
      restarts: 0,
      callMs: undefined,
    });
    expect(availabilityOf(status, Date.now())).to.deep.equal({ accepting: true, retryAfterMs: 0 });
  });

  it('shows the next probe and a Retry-After pause while open, and refuses calls', async () => {
    const dep = startControlled({ breakerThreshold: 2, breakerCooldownMs: 5000, rate: 100, burst: 5 });
    dep.call('a');
    dep.call('b');
    await flush();
    dep.io[0]!.reject(new RateLimitedError('fake', 8000));
    await clock.tickAsync(8000);
    dep.io[1]!.reject(new ServerError('fake', 500));
    await flush();
    await clock.tickAsync(1000);
    const status = describeDependency(dep.actor.getSnapshot(), 2, Date.now());
    expect(status).to.deep.include({
      state: 'open',
      activity: 'refusing',
      since: T0 + 8000,
      reason: '2 consecutive failures, last DEP_SERVER_ERROR',
      nextProbeAt: T0 + 13_000,
      restarts: 2,
    });
    expect(availabilityOf(status, Date.now())).to.deep.equal({ accepting: false, retryAfterMs: 4000 });
  });
});
