import type { IncomingMessage } from 'node:http';
import { expect } from 'chai';
import { clientIp } from '../../src/http/clientIp.js';

const req = (remoteAddress: string, xff?: string) => ({ socket: { remoteAddress }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as unknown as IncomingMessage;

describe('clientIp', () => {
  it('uses the socket address and ignores X-Forwarded-For without trusted proxies', () => {
    expect(clientIp(req('10.0.0.5', '1.2.3.4'), 0)).to.equal('10.0.0.5');
  });

  it('folds IPv4-mapped IPv6 addresses into IPv4', () => {
    expect(clientIp(req('::ffff:10.0.0.5'), 0)).to.equal('10.0.0.5');
    expect(clientIp(req('::1'), 0)).to.equal('::1');
  });

  it('takes the entry the one trusted proxy appended', () => {
    expect(clientIp(req('10.0.0.1', '198.51.100.7'), 1)).to.equal('198.51.100.7');
    expect(clientIp(req('10.0.0.1', '6.6.6.6, 198.51.100.7'), 1)).to.equal('198.51.100.7');
  });

  it('skips as many entries as there are trusted proxies', () => {
    expect(clientIp(req('10.0.0.2', '198.51.100.7, 10.0.0.1'), 2)).to.equal('198.51.100.7');
    expect(clientIp(req('10.0.0.2', '198.51.100.7'), 3)).to.equal('198.51.100.7');
  });

  it('falls back to the socket address when the header is missing or empty', () => {
    expect(clientIp(req('10.0.0.1'), 1)).to.equal('10.0.0.1');
    expect(clientIp(req('10.0.0.1', ' , '), 1)).to.equal('10.0.0.1');
  });
});
