import { expect } from 'chai';
import { ActorRestartedError, BadResponseError, CircuitOpenError, DependencyTimeoutError, OverloadedError, RateLimitedError, RejectedError, ServerError, TargetForbiddenError, UnavailableError, asDependencyError, isCircuitOpenError, isDependencyError } from '../../../src/dependencies/runtime/errors.js';
import { isServiceError } from '../../../src/errors/serviceError.js';

describe('dependency errors', () => {
  it('carry a stable code and whether they are retriable', () => {
    const cases = [
      [new CircuitOpenError('x', 100), 'DEP_CIRCUIT_OPEN', true],
      [new OverloadedError('x', 10), 'DEP_OVERLOADED', true],
      [new DependencyTimeoutError('x', 10), 'DEP_TIMEOUT', true],
      [new UnavailableError('x', new Error('ECONNREFUSED')), 'DEP_UNAVAILABLE', true],
      [new ServerError('x', 503), 'DEP_SERVER_ERROR', true],
      [new RateLimitedError('x', 2000), 'DEP_RATE_LIMITED', true],
      [new ActorRestartedError('x'), 'DEP_ACTOR_RESTARTED', true],
      [new RejectedError('x', 'HTTP 400'), 'DEP_REJECTED', false],
      [new BadResponseError('x', 'not JSON'), 'DEP_BAD_RESPONSE', false],
      [new TargetForbiddenError('x', 'http://127.0.0.1/', 'loopback'), 'DEP_TARGET_FORBIDDEN', false],
    ] as const;
    for (const [error, code, retriable] of cases) {
      expect([error.code, error.retriable, error.dependency, isServiceError(error)]).to.deep.equal([code, retriable, 'x', true]);
    }
  });

  it('tell the edge when to retry through Retry-After, and keep internal messages unexposed', () => {
    const e = new CircuitOpenError('audnex', 1500);
    expect(e.headers).to.deep.equal({ 'Retry-After': '2' });
    expect(e.status).to.equal(503);
    expect(e.expose).to.equal(false);
    expect(e.message).to.equal('audnex: circuit open, next probe in 1500 ms');
  });

  it('are recognised by guards without instanceof', () => {
    const lookalike = { code: 'DEP_CIRCUIT_OPEN', status: 503, retriable: true, dependency: 'x', message: '' };
    expect(isCircuitOpenError(lookalike)).to.equal(true);
    expect(isDependencyError({ code: 'INGEST_SCHEMA_INVALID', status: 422, retriable: false, dependency: 'x' })).to.equal(false);
    expect(isCircuitOpenError(new ServerError('x', 500))).to.equal(false);
  });

  it('classify anything else a call throws as DEP_UNAVAILABLE, keeping the cause', () => {
    const cause = new TypeError('fetch failed');
    const e = asDependencyError('audnex', cause);
    expect(e.code).to.equal('DEP_UNAVAILABLE');
    expect(e.cause).to.equal(cause);
    const known = new RejectedError('audnex', 'no');
    expect(asDependencyError('audnex', known)).to.equal(known);
  });
});
