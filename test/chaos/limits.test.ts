import { expect } from 'chai';
import { limitFigures, overLimit, windowsOf } from '../../bench/chaos/limits.js';
import type { LeaseWrite } from '../../bench/chaos/ownerTimeline.js';
import type { RecordedCall } from '../stubs/stubServer.js';

const LIMITS = { rate: 4, burst: 1, concurrency: 1 };

function call(instance: string, startedAt: number): RecordedCall {
  return { method: 'GET', path: `/via/${instance}/books/B08G9PRS1K`, query: {}, startedAt, endedAt: startedAt + 50, outcome: 'answered', status: 200 };
}

/** Calls of `instance` at the rate, from `from` (inclusive) to `to` (exclusive). */
function atRate(instance: string, from: number, to: number): RecordedCall[] {
  const calls: RecordedCall[] = [];
  for (let t = from; t < to; t += 1000 / LIMITS.rate) calls.push(call(instance, t));
  return calls;
}

describe('windowsOf', () => {
  it('counts calls at both ends of a closed window, as a token bucket allows', () => {
    // burst 1 and rate 4: a full bucket at 0, then a token every 250 ms.
    expect(windowsOf([0, 250, 500, 750, 1000], 1000, 5)).to.deep.equal({ windowMs: 1000, busiest: 5, limit: 5, over: 0 });
    expect(windowsOf([0, 250, 500], 250, 2)).to.deep.equal({ windowMs: 250, busiest: 2, limit: 2, over: 0 });
  });

  it('counts each window that holds more than the limit, whatever the order of the starts', () => {
    expect(windowsOf([900, 0, 100, 200, 300, 400, 500], 1000, 5)).to.deep.equal({ windowMs: 1000, busiest: 7, limit: 5, over: 2 });
    expect(windowsOf([0, 100, 200, 1000], 250, 2)).to.deep.equal({ windowMs: 250, busiest: 3, limit: 2, over: 1 });
  });

  it('finds nothing in no calls', () => {
    expect(windowsOf([], 1000, 5)).to.deep.equal({ windowMs: 1000, busiest: 0, limit: 5, over: 0 });
  });
});

describe('limitFigures', () => {
  // a renews its lease until 10_000; the fault strikes at 10_200; b takes over at 11_500.
  const writes: LeaseWrite[] = [
    { at: 9_000, instance: 'a', revision: 7 },
    { at: 9_700, instance: 'a', revision: 8 },
    { at: 11_500, instance: 'b', revision: 9 },
  ];
  const figures = (calls: RecordedCall[]) =>
    limitFigures({ fault: 'pause-owner', limits: LIMITS, calls, maxInFlight: 1, writes, oldOwner: 'a', faultAt: 10_200, queuedAtFault: 3 });

  it('times the takeover and the new owner first call from the fault, and finds no call outside its term in a clean handover', () => {
    const f = figures([...atRate('a', 9_250, 10_200), ...atRate('b', 11_750, 14_000)]);
    expect(f).to.include({ oldOwner: 'a', newOwner: 'b', newOwnerMs: 1_300, firstCallMs: 1_550, oldOwnerLastCallMs: -200, outsideTerm: 0 });
    expect(f.second.over + f.slot.over).to.equal(0);
    expect(overLimit(f)).to.equal(false);
  });

  it('counts the calls a deposed owner sends after the takeover, and the windows they crowd', () => {
    // a, continued at 13_000, sends three queued calls at once beside b's.
    const f = figures([...atRate('a', 9_250, 10_200), ...atRate('b', 11_750, 14_000), call('a', 13_000), call('a', 13_010), call('a', 13_020)]);
    expect(f.outsideTerm).to.equal(3);
    expect(f.second.busiest).to.be.above(f.second.limit);
    expect(f.slot.over).to.be.above(0);
    expect(f.oldOwnerLastCallMs).to.equal(2_820);
    expect(overLimit(f)).to.equal(true);
  });

  it('counts a call of the next owner before its lease was written as outside its term', () => {
    const f = figures([...atRate('a', 9_250, 10_200), call('b', 11_400)]);
    expect(f.outsideTerm).to.equal(1);
  });

  it('reports no new owner when nobody took over', () => {
    const f = limitFigures({ fault: 'blackhole-owner', limits: LIMITS, calls: atRate('a', 9_250, 10_200), maxInFlight: 1, writes: writes.slice(0, 2), oldOwner: 'a', faultAt: 10_200, queuedAtFault: 0 });
    expect(f).to.include({ newOwner: undefined, newOwnerMs: undefined, firstCallMs: undefined });
    expect(overLimit(f)).to.equal(true);
  });
});
