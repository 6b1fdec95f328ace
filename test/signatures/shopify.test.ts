import { createHmac, timingSafeEqual } from 'node:crypto';
import { expect } from 'chai';
import { ORDER_BODY } from '../helpers/service.js';
import { useSignedIngest } from '../helpers/signedIngest.js';
import { ACCEPT, expectSameDecision, refused, type Verdict } from './verdict.js';

const SECRET = 'shpss_current_client_secret';
const PREVIOUS = 'shpss_previous_client_secret';
const OTHER = 'shpss_secret_nobody_configured';
const BODY = JSON.stringify(ORDER_BODY);

// Shopify's documented algorithm ("Verify a webhook"): base64 HMAC-SHA256 of the raw body with the app's client secret.
const shopifySign = (body: string, secret = SECRET) => createHmac('sha256', secret).update(body, 'utf8').digest('base64');

/** Shopify's documented check, compared as the header's text: accepted with any configured secret, or refused. */
function shopifyVerdict(body: string, hmac: string | undefined): Verdict {
  if (hmac === undefined) return refused('MISSING');
  const offered = Buffer.from(hmac);
  for (const secret of [SECRET, PREVIOUS]) {
    const expected = Buffer.from(shopifySign(body, secret));
    if (offered.length === expected.length && timingSafeEqual(offered, expected)) return ACCEPT;
  }
  return refused('INVALID');
}

const cases: [string, () => { body: string; hmac?: string }][] = [
  ['a valid signature', () => ({ body: BODY, hmac: shopifySign(BODY) })],
  ['a signature made with the previous secret', () => ({ body: BODY, hmac: shopifySign(BODY, PREVIOUS) })],
  ['a signature made with another secret', () => ({ body: BODY, hmac: shopifySign(BODY, OTHER) })],
  ['junk appended', () => ({ body: BODY, hmac: `${shopifySign(BODY)}!!` })],
  ['the padding removed', () => ({ body: BODY, hmac: shopifySign(BODY).replace(/=+$/, '') })],
  ['hex instead of base64', () => ({ body: BODY, hmac: createHmac('sha256', SECRET).update(BODY).digest('hex') })],
  ['a body changed after signing', () => ({ body: BODY.replace('99.99', '0.01'), hmac: shopifySign(BODY) })],
  ['no X-Shopify-Hmac-Sha256 header', () => ({ body: BODY })],
];

describe('Shopify signatures (through HTTP, against the documented algorithm)', () => {
  const ingest = useSignedIngest({ WEBHOOK_SIGNATURE_ORDERS: 'shopify', WEBHOOK_SECRET_ORDERS: SECRET, WEBHOOK_SECRET_ORDERS_PREVIOUS: PREVIOUS });

  for (const [name, make] of cases) {
    it(`decides as Shopify's check on ${name}`, async () => {
      const { body, hmac } = make();
      const outcome = await ingest().post('orders', body, hmac === undefined ? {} : { 'x-shopify-hmac-sha256': hmac });
      expectSameDecision(outcome, shopifyVerdict(body, hmac));
    });
  }

  it('stores the webhook under X-Shopify-Webhook-Id', async () => {
    const outcome = await ingest().post('orders', BODY, { 'x-shopify-hmac-sha256': shopifySign(BODY), 'x-shopify-webhook-id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043' });
    expect(outcome).to.include({ status: 202, id: 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043' });
  });
});
