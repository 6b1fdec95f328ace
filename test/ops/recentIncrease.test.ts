import { expect } from 'chai';
import { RecentIncrease } from '../../src/ops/recentIncrease.js';

describe('RecentIncrease', () => {
  const MIN = 60_000;

  it('counts the growth since start while the window has not passed', () => {
    const r = new RecentIncrease(5 * MIN, 10_000, 0);
    expect(r.record(3, 20_000)).to.equal(3);
    expect(r.record(7, 2 * MIN)).to.equal(7);
  });

  it('forgets growth older than the window', () => {
    const r = new RecentIncrease(5 * MIN, 10_000, 0);
    r.record(10, MIN);
    expect(r.record(10, 7 * MIN)).to.equal(0);
    expect(r.record(12, 8 * MIN)).to.equal(2);
  });

  it('keeps one sample per step however often it is asked', () => {
    const r = new RecentIncrease(5 * MIN, 10_000, 0);
    for (let t = 1; t <= 60_000; t++) r.record(t, t * 10);
    // 600 s of calls every 10 ms: one sample per 10 s step inside the 5-minute window.
    expect((r as unknown as { samples: unknown[] }).samples.length).to.be.within(30, 32);
    expect(r.record(60_000, 600_000)).to.be.closeTo(30_000, 1000);
  });

  it('refuses a window that is not positive', () => {
    expect(() => new RecentIncrease(0, 1000, 0)).to.throw(RangeError, /windowMs/);
  });
});
