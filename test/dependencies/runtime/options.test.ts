import { expect } from 'chai';
import { resolveDependencyOptions } from '../../../src/dependencies/runtime/options.js';

describe('resolveDependencyOptions', () => {
  it('applies conservative defaults', () => {
    expect(resolveDependencyOptions()).to.deep.equal({
      rate: 1,
      burst: 1,
      concurrency: 1,
      timeoutMs: 10_000,
      maxQueue: 100,
      breakerThreshold: 5,
      breakerCooldownMs: 30_000,
      breakerMaxCooldownMs: 300_000,
      defaultRetryAfterMs: 1000,
      extraLimits: {},
    });
  });

  it('checks an explicit 0 instead of replacing it with the default', () => {
    expect(() => resolveDependencyOptions({ maxQueue: 0 })).to.throw(RangeError, 'maxQueue must be an integer >= 1, got 0');
    expect(() => resolveDependencyOptions({ timeoutMs: 0 })).to.throw(RangeError, 'timeoutMs must be an integer >= 1, got 0');
  });

  it('throws a RangeError naming the field and the value', () => {
    expect(() => resolveDependencyOptions({ concurrency: 0 })).to.throw(RangeError, 'concurrency must be an integer >= 1, got 0');
    expect(() => resolveDependencyOptions({ rate: -1 })).to.throw(RangeError, 'rate must be a number > 0, got -1');
    expect(() => resolveDependencyOptions({ breakerCooldownMs: 5000, breakerMaxCooldownMs: 1000 })).to.throw(RangeError, 'breakerMaxCooldownMs');
    expect(() => resolveDependencyOptions({ extraLimits: { calls: { rate: 1, burst: 1 } } })).to.throw(RangeError, "'calls'");
  });

  it('raises the default cap to a longer base cool-down', () => {
    expect(resolveDependencyOptions({ breakerCooldownMs: 600_000 }).breakerMaxCooldownMs).to.equal(600_000);
  });
});
