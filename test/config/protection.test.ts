import { expect } from 'chai';
import { loadProtectionConfig } from '../../src/config/protection.js';

describe('loadProtectionConfig', () => {
  it('applies the documented defaults', () => {
    expect(loadProtectionConfig({})).to.deep.equal({
      ratePerIp: 1000,
      burstPerIp: 2000,
      trustProxyHops: 0,
      maxConnections: 10_000,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
    });
  });

  it('derives the burst from the rate and turns the limit off with 0', () => {
    expect(loadProtectionConfig({ INGEST_RATE_PER_IP: '0.5' })).to.include({ ratePerIp: 0.5, burstPerIp: 1 });
    expect(loadProtectionConfig({ INGEST_RATE_PER_IP: '0' })).to.include({ ratePerIp: 0 });
    expect(loadProtectionConfig({ INGEST_RATE_PER_IP: '5', INGEST_BURST_PER_IP: '50', TRUST_PROXY: '1' })).to.include({ ratePerIp: 5, burstPerIp: 50, trustProxyHops: 1 });
  });

  for (const [env, variable] of [
    [{ INGEST_RATE_PER_IP: 'lots' }, 'INGEST_RATE_PER_IP'],
    [{ INGEST_BURST_PER_IP: '0.5' }, 'INGEST_BURST_PER_IP'],
    [{ TRUST_PROXY: 'yes' }, 'TRUST_PROXY'],
    [{ MAX_CONNECTIONS: '0' }, 'MAX_CONNECTIONS'],
    [{ HEADERS_TIMEOUT_MS: '50' }, 'HEADERS_TIMEOUT_MS'],
    [{ HEADERS_TIMEOUT_MS: '5000', REQUEST_TIMEOUT_MS: '1000' }, 'HEADERS_TIMEOUT_MS'],
    [{ REQUEST_TIMEOUT_MS: 'soon' }, 'REQUEST_TIMEOUT_MS'],
  ] as const) {
    it(`refuses ${JSON.stringify(env)} with a message naming ${variable}`, () => {
      expect(() => loadProtectionConfig(env)).to.throw(new RegExp(`^${variable} `));
    });
  }
});
