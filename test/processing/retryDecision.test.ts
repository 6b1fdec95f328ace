import { expect } from 'chai';
import { decideRetry, summarizeFailure } from '../../src/processing/retryDecision.js';
import { ServiceError } from '../../src/errors/serviceError.js';

const policy = { backoffMs: [1000, 5000, 30_000, 120_000], maxDeliver: 5 };
const retriable = new ServiceError('DEP_SERVER_ERROR', 'down', { retriable: true });

describe('decideRetry', () => {
  it('retries with the backoff of the delivery that failed', () => {
    expect([1, 2, 3, 4].map((n) => decideRetry(retriable, n, policy))).to.deep.equal([
      { kind: 'retry', delayMs: 1000 },
      { kind: 'retry', delayMs: 5000 },
      { kind: 'retry', delayMs: 30_000 },
      { kind: 'retry', delayMs: 120_000 },
    ]);
  });

  it('repeats the last delay when MAX_DELIVER exceeds the list', () => {
    expect(decideRetry(retriable, 6, { ...policy, maxDeliver: 10 })).to.deep.equal({ kind: 'retry', delayMs: 120_000 });
  });

  it('gives up after the last delivery', () => {
    expect(decideRetry(retriable, 5, policy)).to.deep.equal({ kind: 'exhausted' });
  });

  it('terminates permanent failures at once', () => {
    expect(decideRetry(new ServiceError('DEP_REJECTED', 'no', { retriable: false }), 1, policy)).to.deep.equal({ kind: 'terminate' });
  });

  it("waits at least a dependency's own hint", () => {
    const open = Object.assign(new ServiceError('DEP_CIRCUIT_OPEN', 'open', { retriable: true }), { retryAfterMs: 25_000 });
    expect(decideRetry(open, 1, policy)).to.deep.equal({ kind: 'retry', delayMs: 25_000 });
  });

  it('retries unexpected errors', () => {
    expect(decideRetry(new TypeError('boom'), 1, policy)).to.deep.equal({ kind: 'retry', delayMs: 1000 });
    expect(summarizeFailure(new TypeError('boom'))).to.deep.equal({ code: 'PROCESSING_HANDLER_FAILED', message: 'boom', retriable: true });
  });
});
