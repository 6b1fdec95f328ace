import { expect } from 'chai';
import { loadConfig } from '../../src/serviceConfig.js';
import type { Env } from '../../src/config/parse.js';
import { loadSignatureConfig } from '../../src/config/signatures.js';

const WHSEC = `whsec_${Buffer.from('a-32-byte-long-test-signing-key!').toString('base64')}`;

function configError(env: Env): { code?: string; variable?: string; message: string } {
  try {
    loadConfig(env);
  } catch (e) {
    return e as { code?: string; variable?: string; message: string };
  }
  throw new Error('expected loadConfig to throw');
}

describe('signature settings', () => {
  it('reads the scheme per source, standard by default', () => {
    const c = loadConfig({ WEBHOOK_SECRET_ORDERS: WHSEC, WEBHOOK_SECRET_PAGES: 'shpss_0123456789', WEBHOOK_SIGNATURE_PAGES: 'shopify' });
    expect(c.ingest.signatures.get('orders')?.scheme.name).to.equal('standard');
    expect(c.ingest.signatures.get('pages')?.scheme.name).to.equal('shopify');
    expect(c.ingest.signatures.has('audiobooks')).to.equal(false);
  });

  it('keeps a secret with spaces and commas whole', async () => {
    const secret = "It's a Secret to Everybody, really";
    const c = loadConfig({ WEBHOOK_SECRET_ORDERS: secret, WEBHOOK_SIGNATURE_ORDERS: 'github' });
    const { createHmac } = await import('node:crypto');
    const body = Buffer.from('{"embeds":[]}');
    const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    await c.ingest.signatures.get('orders')!.verify({ 'x-hub-signature-256': signature }, body);
  });

  for (const [env, variable, pattern] of [
    [{ WEBHOOK_SIGNATURE_ORDERS: 'gitlab', WEBHOOK_SECRET_ORDERS: WHSEC }, 'WEBHOOK_SIGNATURE_ORDERS', /must be one of standard, github, stripe, shopify, slack/],
    [{ WEBHOOK_SIGNATURE_ORDERS: 'github' }, 'WEBHOOK_SIGNATURE_ORDERS', /WEBHOOK_SECRET_ORDERS is not/],
    [{ WEBHOOK_SECRET_ORDERS_PREVIOUS: WHSEC }, 'WEBHOOK_SECRET_ORDERS_PREVIOUS', /WEBHOOK_SECRET_ORDERS is not/],
    [{ WEBHOOK_SECRET_ORDERS: `${WHSEC} ${WHSEC}` }, 'WEBHOOK_SECRET_ORDERS', /second one goes in WEBHOOK_SECRET_ORDERS_PREVIOUS/],
    [{ WEBHOOK_SECRET_ORDERS: 'not-base64-secret!' }, 'WEBHOOK_SECRET_ORDERS', /Standard Webhooks secret/],
    [{ WEBHOOK_SECRET_ORDERS: WHSEC, WEBHOOK_SECRET_ORDERS_PREVIOUS: 'not base64!' }, 'WEBHOOK_SECRET_ORDERS_PREVIOUS', /Standard Webhooks secret/],
    [{ WEBHOOK_SECRET_ORDERS: 'short', WEBHOOK_SIGNATURE_ORDERS: 'github' }, 'WEBHOOK_SECRET_ORDERS', /shorter than 8/],
    [{ WEBHOOK_SECRET_ORDRES: WHSEC }, 'WEBHOOK_SECRET_ORDRES', /names no registered source/],
    [{ WEBHOOK_SIGNATURE_ORDRES: 'github' }, 'WEBHOOK_SIGNATURE_ORDRES', /names no registered source/],
  ] as const) {
    it(`refuses ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')} naming ${variable}`, () => {
      const e = configError(env);
      expect(e.code).to.equal('CONFIG_INVALID');
      expect(e.variable).to.equal(variable);
      expect(e.message).to.match(new RegExp(`^${variable} `)).and.match(pattern);
    });
  }
});

describe('DUPLICATE_WINDOW with signatures', () => {
  it('defaults to 10 minutes, twice the five-minute signature tolerance', () => {
    expect(loadConfig({}).ingest.duplicateWindowMs).to.equal(600_000);
    expect(loadConfig({ WEBHOOK_SECRET_ORDERS: WHSEC }).ingest.duplicateWindowMs).to.equal(600_000);
  });

  it('refuses a window shorter than that while a secret is set, naming both variables and the tolerance', () => {
    const e = configError({ DUPLICATE_WINDOW: '2m', WEBHOOK_SECRET_PAGES: WHSEC });
    expect(e.variable).to.equal('DUPLICATE_WINDOW');
    expect(e.message).to.match(/^DUPLICATE_WINDOW must be at least 10m/).and.match(/WEBHOOK_SECRET_PAGES/).and.match(/5 minutes/);
    expect(configError({ DUPLICATE_WINDOW: '9m59s', WEBHOOK_SECRET_ORDERS: 'gh-secret-text', WEBHOOK_SIGNATURE_ORDERS: 'github' }).variable).to.equal(
      'DUPLICATE_WINDOW',
    );
  });

  it('takes a window of 10 minutes or more with a secret, and any window without one', () => {
    expect(loadConfig({ DUPLICATE_WINDOW: '10m', WEBHOOK_SECRET_PAGES: WHSEC }).ingest.duplicateWindowMs).to.equal(600_000);
    expect(loadConfig({ DUPLICATE_WINDOW: '1h', WEBHOOK_SECRET_PAGES: WHSEC }).ingest.duplicateWindowMs).to.equal(3_600_000);
    expect(loadConfig({ DUPLICATE_WINDOW: '2m' }).ingest.duplicateWindowMs).to.equal(120_000);
  });
});

describe('loadSignatureConfig', () => {
  it('refuses source names that would make a rotation variable mean two things', () => {
    const e = (() => {
      try {
        loadSignatureConfig({}, ['orders', 'orders_previous']);
      } catch (err) {
        return err as { variable?: string; message: string };
      }
      throw new Error('expected loadSignatureConfig to throw');
    })();
    expect(e.variable).to.equal('WEBHOOK_SECRET_ORDERS_PREVIOUS');
    expect(e.message).to.match(/ambiguous/);
  });
});
