import { expect } from 'chai';
import { IpRateLimiter } from '../../src/http/ipRateLimiter.js';

describe('IpRateLimiter', () => {
  it('lets a burst through, then one request per 1/rate seconds', () => {
    const l = new IpRateLimiter({ rate: 2, burst: 3 });
    const t = 1_000_000;
    expect([1, 2, 3].map(() => l.take('a', t).allowed)).to.deep.equal([true, true, true]);
    const refused = l.take('a', t);
    expect(refused).to.deep.equal({ allowed: false, retryAfterMs: 500 });
    expect(l.take('a', t + 499).allowed).to.equal(false);
    expect(l.take('a', t + 500).allowed).to.equal(true);
  });

  it('keeps one bucket per client', () => {
    const l = new IpRateLimiter({ rate: 1, burst: 1 });
    expect(l.take('a', 0).allowed).to.equal(true);
    expect(l.take('a', 0).allowed).to.equal(false);
    expect(l.take('b', 0).allowed).to.equal(true);
  });

  it('allows everything with rate 0', () => {
    const l = new IpRateLimiter({ rate: 0, burst: 0 });
    expect(l.enabled).to.equal(false);
    for (let i = 0; i < 100; i++) expect(l.take('a', 0).allowed).to.equal(true);
    expect(l.size).to.equal(0);
  });

  it('forgets the least recently seen client beyond maxClients', () => {
    const l = new IpRateLimiter({ rate: 1, burst: 1, maxClients: 2 });
    l.take('a', 0);
    l.take('b', 0);
    l.take('c', 0);
    expect(l.size).to.equal(2);
    // 'a' was forgotten: it starts again with a full bucket.
    expect(l.take('a', 0).allowed).to.equal(true);
    expect(l.take('c', 0).allowed).to.equal(false);
  });

  it('sweeps clients whose buckets have refilled', () => {
    const l = new IpRateLimiter({ rate: 10, burst: 10 });
    for (let i = 0; i < 50; i++) l.take(`10.0.0.${i}`, 0);
    expect(l.size).to.equal(50);
    l.take('10.0.1.1', 5000);
    expect(l.size).to.equal(1);
  });
});
