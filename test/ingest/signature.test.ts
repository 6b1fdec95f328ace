import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import { verifySignature } from '../../src/ingest/signature.js';

const KEY = Buffer.from('a-32-byte-long-test-signing-key!');
const SECRET = `whsec_${KEY.toString('base64')}`;
const OLD_SECRET = `whsec_${Buffer.from('an-older-signing-key-of-32-bytes').toString('base64')}`;
const body = Buffer.from('{"embeds":[{"description":"x"}]}');
const now = 1_800_000_000_000;

function standard(secret: string, id = 'msg_1', ts = Math.floor(now / 1000)) {
  const key = Buffer.from(secret.slice(6), 'base64');
  const sig = createHmac('sha256', key).update(`${id}.${ts}.`).update(body).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': `v1,${sig}` };
}

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as { code: string }).code;
  }
}

describe('verifySignature', () => {
  describe('Standard Webhooks', () => {
    it('accepts a valid signature', () => {
      expect(codeOf(() => verifySignature('orders', standard(SECRET), body, [SECRET], now))).to.equal(undefined);
    });

    it('refuses a signature made with another secret', () => {
      expect(codeOf(() => verifySignature('orders', standard(OLD_SECRET), body, [SECRET], now))).to.equal('INGEST_SIGNATURE_INVALID');
    });

    it('refuses a body changed after signing', () => {
      const h = standard(SECRET);
      expect(codeOf(() => verifySignature('orders', h, Buffer.from('{"embeds":[]}'), [SECRET], now))).to.equal('INGEST_SIGNATURE_INVALID');
    });

    it('refuses a signature bound to another webhook-id', () => {
      const h = { ...standard(SECRET), 'webhook-id': 'msg_2' };
      expect(codeOf(() => verifySignature('orders', h, body, [SECRET], now))).to.equal('INGEST_SIGNATURE_INVALID');
    });

    it('refuses timestamps more than five minutes old or ahead', () => {
      const stale = standard(SECRET, 'msg_1', Math.floor(now / 1000) - 301);
      const ahead = standard(SECRET, 'msg_1', Math.floor(now / 1000) + 301);
      expect(codeOf(() => verifySignature('orders', stale, body, [SECRET], now))).to.equal('INGEST_SIGNATURE_EXPIRED');
      expect(codeOf(() => verifySignature('orders', ahead, body, [SECRET], now))).to.equal('INGEST_SIGNATURE_EXPIRED');
    });

    it('accepts a timestamp just inside the tolerance', () => {
      const h = standard(SECRET, 'msg_1', Math.floor(now / 1000) - 299);
      expect(codeOf(() => verifySignature('orders', h, body, [SECRET], now))).to.equal(undefined);
    });

    it('accepts any of several signatures in one header (sender rotating)', () => {
      const good = standard(SECRET)['webhook-signature'];
      const other = standard(OLD_SECRET)['webhook-signature'];
      const h = { ...standard(SECRET), 'webhook-signature': `${other} v2,ignored ${good}` };
      expect(codeOf(() => verifySignature('orders', h, body, [SECRET], now))).to.equal(undefined);
    });

    it('accepts any of several configured secrets (receiver rotating)', () => {
      expect(codeOf(() => verifySignature('orders', standard(OLD_SECRET), body, [SECRET, OLD_SECRET], now))).to.equal(undefined);
    });

    it('refuses a header with no v1 signature', () => {
      const h = { ...standard(SECRET), 'webhook-signature': 'v0,abc' };
      expect(codeOf(() => verifySignature('orders', h, body, [SECRET], now))).to.equal('INGEST_SIGNATURE_INVALID');
    });
  });

  describe('GitHub', () => {
    const gh = (secret: string) => ({ 'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}` });

    it('accepts a valid x-hub-signature-256', () => {
      expect(codeOf(() => verifySignature('orders', gh('plain-secret'), body, ['plain-secret'], now))).to.equal(undefined);
    });

    it('refuses a wrong x-hub-signature-256', () => {
      expect(codeOf(() => verifySignature('orders', gh('other-secret'), body, ['plain-secret'], now))).to.equal('INGEST_SIGNATURE_INVALID');
    });

    it('refuses a malformed x-hub-signature-256', () => {
      expect(codeOf(() => verifySignature('orders', { 'x-hub-signature-256': 'sha1=abc' }, body, ['plain-secret'], now))).to.equal(
        'INGEST_SIGNATURE_INVALID',
      );
    });
  });

  it('refuses a request with no signature headers', () => {
    expect(codeOf(() => verifySignature('orders', {}, body, [SECRET], now))).to.equal('INGEST_SIGNATURE_MISSING');
  });
});
