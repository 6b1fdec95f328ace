import { expect } from 'chai';
import { RejectedError, ServerError, isCircuitOpenError, type DependencyError } from '../../../src/dependencies/runtime/errors.js';
import { useFakeClock } from '../../helpers/fakeClock.js';
import { startControlled, type Tracked } from '../../helpers/controlledDependency.js';

const T0 = 1_700_000_000_000;

describe('dependencyMachine breaker', () => {
  const clock = useFakeClock({ now: T0 });
  const { flush } = clock;
  const errorOf = (t: Tracked) => t.error as DependencyError;

  describe('open', () => {
    it('rejects the calls queued when it opens with DEP_CIRCUIT_OPEN, without sending them', async () => {
      const dep = startControlled({ breakerThreshold: 1, breakerCooldownMs: 30_000 });
      dep.call('fails');
      const queued = [dep.call('q1'), dep.call('q2')];
      await flush();
      dep.io[0]!.reject(new ServerError('fake', 503));
      await flush();
      expect(dep.breaker()).to.equal('open');
      for (const q of queued) {
        expect(isCircuitOpenError(q.error)).to.equal(true);
        expect(errorOf(q).retryAfterMs).to.equal(30_000);
      }
      expect(dep.io).to.have.length(1);
      expect(dep.context().mailbox).to.have.length(0);
    });

    it('refuses calls at once with the time left until the probe', async () => {
      const dep = startControlled({ breakerThreshold: 1, breakerCooldownMs: 10_000 });
      dep.call('fails');
      await flush();
      dep.io[0]!.reject(new ServerError('fake', 500));
      await flush();
      await clock.tickAsync(4000);
      const refused = dep.call('later');
      await flush();
      expect(errorOf(refused).code).to.equal('DEP_CIRCUIT_OPEN');
      expect(errorOf(refused).retryAfterMs).to.equal(6000);
      expect(errorOf(refused).retriable).to.equal(true);
      expect(dep.io).to.have.length(1);
    });

    it('still answers a call that was in flight when it opened, and stays open', async () => {
      const dep = startControlled({ breakerThreshold: 1, concurrency: 2, rate: 1000, burst: 10 });
      dep.call('fails');
      const slow = dep.call('slow');
      await flush();
      dep.io[0]!.reject(new ServerError('fake', 500));
      await flush();
      expect(dep.breaker()).to.equal('open');
      dep.io[1]!.resolve('late answer');
      await flush();
      expect(slow.value).to.equal('late answer');
      expect(dep.breaker()).to.equal('open');
    });

    it('keeps open-only data in the open state', async () => {
      const dep = startControlled({ breakerThreshold: 1, breakerCooldownMs: 10_000 });
      dep.call('fails');
      await flush();
      dep.io[0]!.reject(new ServerError('fake', 500));
      await flush();
      expect(dep.breakerData()).to.deep.equal({ state: 'open', openedAt: T0, trips: 1, nextProbeAt: T0 + 10_000 });
    });
  });

  describe('halfOpen', () => {
    async function openOnce(options = {}) {
      const dep = startControlled({ breakerThreshold: 1, breakerCooldownMs: 1000, rate: 1000, burst: 10, concurrency: 3, ...options });
      dep.call('trip');
      await flush();
      dep.io[0]!.reject(new ServerError('fake', 500));
      await flush();
      return dep;
    }

    it('moves to halfOpen after the cool-down', async () => {
      const dep = await openOnce();
      await clock.tickAsync(999);
      expect(dep.breaker()).to.equal('open');
      await clock.tickAsync(1);
      expect(dep.breaker()).to.equal('halfOpen');
      expect(dep.value()).to.deep.equal({ halfOpen: 'idle' });
    });

    it('lets exactly one probe through while the others wait', async () => {
      const dep = await openOnce();
      await clock.tickAsync(1000);
      const calls = [dep.call('probe'), dep.call('w1'), dep.call('w2')];
      await flush();
      await clock.tickAsync(5000);
      expect(dep.io.map((c) => c.request)).to.deep.equal(['trip', 'probe']);
      expect(dep.value()).to.deep.equal({ halfOpen: 'probing' });
      expect(calls.some((c) => c.settled)).to.equal(false);
      expect(dep.events.filter((e) => e.type === 'dep.callStarted' && e.probe)).to.have.length(1);
    });

    it('closes when the probe succeeds and then sends the waiting calls', async () => {
      const dep = await openOnce();
      await clock.tickAsync(1000);
      const [probe, w1, w2] = [dep.call('probe'), dep.call('w1'), dep.call('w2')];
      await flush();
      dep.io[1]!.resolve('up again');
      await flush();
      expect(dep.breaker()).to.equal('closed');
      expect(probe).to.deep.include({ settled: true, value: 'up again' });
      expect(dep.io.map((c) => c.request)).to.deep.equal(['trip', 'probe', 'w1', 'w2']);
      dep.io[2]!.resolve(1);
      dep.io[3]!.resolve(2);
      await flush();
      expect([w1.value, w2.value]).to.deep.equal([1, 2]);
      expect(dep.lastChange()).to.deep.include({ from: 'halfOpen', to: 'closed', reason: 'probe succeeded' });
    });

    it('opens again when the probe fails, and rejects the calls that waited for it', async () => {
      const dep = await openOnce();
      await clock.tickAsync(1000);
      dep.call('probe');
      const waiting = dep.call('w1');
      await flush();
      dep.io[1]!.reject(new ServerError('fake', 502));
      await flush();
      expect(dep.breaker()).to.equal('open');
      expect(errorOf(waiting).code).to.equal('DEP_CIRCUIT_OPEN');
      expect(dep.io).to.have.length(2);
    });

    it('closes when the probe is refused with a permanent error, since the dependency answered', async () => {
      const dep = await openOnce();
      await clock.tickAsync(1000);
      const probe = dep.call('probe');
      await flush();
      dep.io[1]!.reject(new RejectedError('fake', 'HTTP 404', { upstreamStatus: 404 }));
      await flush();
      expect(errorOf(probe).code).to.equal('DEP_REJECTED');
      expect(dep.breaker()).to.equal('closed');
    });

    it('doubles the cool-down on each consecutive trip, up to the cap', async () => {
      const dep = await openOnce({ breakerMaxCooldownMs: 3000 });
      const cooldowns: number[] = [];
      for (let trip = 0; trip < 4; trip++) {
        const b = dep.breakerData();
        if (b.state !== 'open') throw new Error('expected open');
        cooldowns.push(b.nextProbeAt - b.openedAt);
        await clock.tickAsync(b.nextProbeAt - Date.now());
        expect(dep.breaker()).to.equal('halfOpen');
        dep.call(`probe-${trip}`);
        await flush();
        dep.io.at(-1)!.reject(new ServerError('fake', 500));
        await flush();
      }
      expect(cooldowns).to.deep.equal([1000, 2000, 3000, 3000]);
    });

    it('starts the cool-down from the base again once closed', async () => {
      const dep = await openOnce();
      await clock.tickAsync(1000);
      dep.call('probe');
      await flush();
      dep.io[1]!.reject(new ServerError('fake', 500));
      await flush();
      await clock.tickAsync(2000);
      dep.call('probe 2');
      await flush();
      dep.io[2]!.resolve('ok');
      await flush();
      dep.call('trip again');
      await flush();
      dep.io[3]!.reject(new ServerError('fake', 500));
      await flush();
      const b = dep.breakerData();
      expect(b.state === 'open' && b.nextProbeAt - b.openedAt).to.equal(1000);
    });
  });
});
