import { expect } from 'chai';
import { canTake, charge, createBucket, msUntil, refill, take } from '../src/tokenBucket.js';
import { costIn, createBuckets, msUntilAll, takeAll } from '../src/dependencies/runtime/buckets.js';

describe('tokenBucket', () => {
  const limit = { rate: 2, burst: 3 };

  it('starts full', () => {
    expect(createBucket(limit, 1000)).to.deep.equal({ rate: 2, burst: 3, tokens: 3, updatedAt: 1000 });
  });

  it('refills at `rate` per second up to `burst`', () => {
    const empty = { ...createBucket(limit, 0), tokens: 0 };
    expect(refill(empty, 250).tokens).to.equal(0.5);
    expect(refill(empty, 10_000).tokens).to.equal(3);
  });

  it('ignores a clock that goes backwards', () => {
    const b = { ...createBucket(limit, 1000), tokens: 1 };
    expect(refill(b, 500).tokens).to.equal(1);
  });

  it('takes tokens and says how long until the next one', () => {
    let b = createBucket({ rate: 4, burst: 1 }, 0);
    expect(canTake(b, 1, 0)).to.equal(true);
    b = take(b, 1, 0);
    expect(canTake(b, 1, 0)).to.equal(false);
    expect(msUntil(b, 1, 0)).to.equal(250);
    expect(msUntil(b, 1, 100)).to.equal(150);
    expect(canTake(b, 1, 250)).to.equal(true);
    expect(msUntil(b, 1, 250)).to.equal(0);
  });

  it('never leaves a call waiting for a float rounding error', () => {
    let b = createBucket({ rate: 10, burst: 1 }, 0);
    b = take(b, 1, 0);
    expect(canTake(refill(refill(refill(b, 30), 60), 100), 1, 100)).to.equal(true);
  });

  it('lets a cost above the burst start once the bucket is full, leaving a debt', () => {
    const b = createBucket({ rate: 10, burst: 100 }, 0);
    expect(canTake(b, 250, 0)).to.equal(true);
    const after = take(b, 250, 0);
    expect(after.tokens).to.equal(-150);
    expect(msUntil(after, 1, 0)).to.equal(15_100);
  });

  it('applies corrections and never refunds above the burst', () => {
    const b = { ...createBucket({ rate: 1, burst: 10 }, 0), tokens: 4 };
    expect(charge(b, 3).tokens).to.equal(1);
    expect(charge(b, -20).tokens).to.equal(10);
  });

  it('charges a call 1 in `calls` and 0 in other buckets unless told otherwise', () => {
    expect(costIn(undefined, 'calls')).to.equal(1);
    expect(costIn(undefined, 'tokens')).to.equal(0);
    expect(costIn({ tokens: 500 }, 'tokens')).to.equal(500);
    expect(costIn({ calls: 0 }, 'calls')).to.equal(0);
  });

  it('waits for the slowest of several buckets', () => {
    const buckets = createBuckets({ calls: { rate: 10, burst: 1 }, tokens: { rate: 100, burst: 1000 } }, 0);
    const after = takeAll(buckets, { tokens: 1000 }, 0);
    expect(msUntilAll(after, { tokens: 500 }, 0)).to.equal(5000);
    expect(msUntilAll(after, undefined, 0)).to.equal(100);
  });
});
