import { expect } from 'chai';
import { DependencyLease } from '../../../src/dependencies/ownership/lease.js';
import type { DependencyError } from '../../../src/dependencies/runtime/errors.js';
import { startControlled } from '../../helpers/controlledDependency.js';
import { useFakeClock } from '../../helpers/fakeClock.js';
import { MemoryKv } from '../../helpers/memoryKv.js';

describe('a dependency actor fenced by its lease', () => {
  const clock = useFakeClock();
  const { flush } = clock;

  it("starts no call once the lease has run out here, even when the call's timer fires before the lease's own loss timer (a blocked event loop)", async () => {
    // Time the event loop spent blocked: both clocks ran on, no timer fired.
    let blocked = 0;
    const now = () => Date.now() + blocked;
    const lease = new DependencyLease({ key: 'fake', instance: 'a', store: new MemoryKv(), leaseMs: 2000, now, wallNow: now });
    lease.start();
    await clock.tickAsync(0);
    const token = lease.token;
    expect(lease.isOwner).to.equal(true);
    const dep = startControlled({ rate: 1, burst: 1, concurrency: 2 }, undefined, () => lease.check() && lease.token === token);
    await clock.tickAsync(1400); // renewals at 666 and 1333; the next loss deadline is 1000 ms after the last
    dep.call('first');
    await flush();
    expect(dep.io.map((c) => c.request)).to.deep.equal(['first']);
    const second = dep.call('second'); // waits 1 s for a token: its timer is due before the lease's next timers
    blocked = 4500;
    await clock.tickAsync(1000);
    expect(dep.io.map((c) => c.request), 'I/O started after the lease ran out').to.deep.equal(['first']);
    expect((second.error as DependencyError).code).to.equal('DEP_OWNER_UNAVAILABLE');
    lease.stop();
  });

  it('refuses calls without I/O and without counting a failure while the fence says no', async () => {
    let owner = true;
    const dep = startControlled({ rate: 100, burst: 10, breakerThreshold: 1 }, undefined, () => owner);
    owner = false;
    const refused = [dep.call('a'), dep.call('b')];
    await flush();
    expect(dep.io).to.have.length(0);
    expect(refused.map((c) => (c.error as DependencyError).code)).to.deep.equal(['DEP_OWNER_UNAVAILABLE', 'DEP_OWNER_UNAVAILABLE']);
    expect(dep.breaker()).to.equal('closed');
    expect(dep.context().counters).to.deep.equal({ ok: 0, failed: 0, rejected: 2 });
  });
});
