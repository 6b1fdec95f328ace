import { expect } from 'chai';
import { cappedExponential } from '../src/backoff.js';

describe('cappedExponential', () => {
  it('starts at the base and doubles per attempt up to the cap', () => {
    const delays = [1, 2, 3, 4, 5, 6].map((attempt) => cappedExponential({ baseMs: 100, maxMs: 1000, attempt }));
    expect(delays).to.deep.equal([100, 200, 400, 800, 1000, 1000]);
  });

  it('treats an attempt below 1 as the first', () => {
    expect([0, -3].map((attempt) => cappedExponential({ baseMs: 250, maxMs: 1000, attempt }))).to.deep.equal([250, 250]);
  });

  it('stays finite and capped for a very long streak', () => {
    expect(cappedExponential({ baseMs: 1, maxMs: 30_000, attempt: 10_000 })).to.equal(30_000);
  });
});
