import { expect } from 'chai';
import { cooldownFor, shouldTrip, tripsOf } from '../../../src/dependencies/runtime/breaker.js';

describe('breaker', () => {
  describe('shouldTrip', () => {
    it('trips once the consecutive failures reach the threshold', () => {
      expect([3, 4, 5, 6].map((n) => shouldTrip(n, 5))).to.deep.equal([false, false, true, true]);
    });
  });

  describe('cooldownFor', () => {
    it('doubles the base per consecutive trip, capped', () => {
      const policy = { breakerCooldownMs: 30_000, breakerMaxCooldownMs: 300_000 };
      expect([1, 2, 3, 4, 5, 50].map((t) => cooldownFor(t, policy))).to.deep.equal([30_000, 60_000, 120_000, 240_000, 300_000, 300_000]);
    });

    it('is constant when the cap equals the base', () => {
      const policy = { breakerCooldownMs: 200, breakerMaxCooldownMs: 200 };
      expect([1, 2, 3].map((t) => cooldownFor(t, policy))).to.deep.equal([200, 200, 200]);
    });
  });

  describe('tripsOf', () => {
    it('counts no trips while closed', () => {
      expect(tripsOf({ consecutiveFailures: 3 })).to.equal(0);
      expect(tripsOf({ trips: 2, probeCallId: undefined })).to.equal(2);
    });
  });
});
