import { expect } from 'chai';
import { RecentDurations } from '../../src/ops/recentDurations.js';

describe('RecentDurations', () => {
  it('has no quantile before the first duration', () => {
    expect(new RecentDurations(4).quantile(0.99)).to.equal(null);
  });

  it('gives the nearest-rank quantile of what it holds', () => {
    const r = new RecentDurations(1000);
    for (let i = 1; i <= 100; i++) r.add(i);
    expect(r.quantile(0.99)).to.equal(99);
    expect(r.quantile(0.5)).to.equal(50);
    expect(r.quantile(1)).to.equal(100);
  });

  it('keeps only the last `capacity` durations', () => {
    const r = new RecentDurations(3);
    for (const d of [1000, 1000, 1, 2, 3]) r.add(d);
    expect(r.size).to.equal(3);
    expect(r.quantile(1)).to.equal(3);
  });

  it('refuses a quantile outside 0..1', () => {
    expect(() => new RecentDurations().quantile(1.5)).to.throw(RangeError, /between 0 and 1/);
  });
});
