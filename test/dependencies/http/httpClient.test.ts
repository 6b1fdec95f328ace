import { expect } from 'chai';
import { errorForStatus, parseRetryAfter } from '../../../src/dependencies/http/httpClient.js';

describe('http', () => {
  describe('parseRetryAfter', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');

    it('reads delay-seconds', () => {
      expect(parseRetryAfter('3', now)).to.equal(3000);
      expect(parseRetryAfter(' 0 ', now)).to.equal(0);
    });

    it('reads an HTTP date, never negative', () => {
      expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:10 GMT', now)).to.equal(10_000);
      expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now)).to.equal(0);
    });

    it('gives undefined for an absent or unreadable value', () => {
      expect(parseRetryAfter(null, now)).to.equal(undefined);
      expect(parseRetryAfter('soon', now)).to.equal(undefined);
      expect(parseRetryAfter('-5', now)).to.equal(undefined);
    });
  });

  describe('errorForStatus', () => {
    const headers = new Headers({ 'retry-after': '7' });
    it('maps 429, 408, 5xx and other 4xx to their codes', () => {
      expect([429, 408, 500, 503, 400, 401, 403, 422].map((s) => errorForStatus('x', s, headers, 0).code)).to.deep.equal([
        'DEP_RATE_LIMITED',
        'DEP_SERVER_ERROR',
        'DEP_SERVER_ERROR',
        'DEP_SERVER_ERROR',
        'DEP_REJECTED',
        'DEP_REJECTED',
        'DEP_REJECTED',
        'DEP_REJECTED',
      ]);
      expect(errorForStatus('x', 429, headers, 0).retryAfterMs).to.equal(7000);
      expect(errorForStatus('x', 429, new Headers(), 0).retryAfterMs).to.equal(undefined);
    });
  });
});
