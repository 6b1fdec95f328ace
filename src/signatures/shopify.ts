import { createHmac } from 'node:crypto';
import { refuse } from '../errors/ingestError.js';
import { header, sameText, type SignatureScheme } from './scheme.js';

const SIGNATURE = 'x-shopify-hmac-sha256';

/**
 * Shopify (`X-Shopify-Hmac-Sha256`): base64 HMAC-SHA256 of the raw body with
 * the app's client secret. The header is compared as text with the
 * canonical base64, so padding changes or appended junk are refused.
 * Shopify signs no timestamp; `X-Shopify-Webhook-Id` is the delivery id.
 */
export const shopifyScheme: SignatureScheme = {
  name: 'shopify',
  headers: [SIGNATURE],
  verifier(secrets) {
    return (headers, body) => {
      const signature = header(headers, SIGNATURE);
      if (signature === undefined) throw refuse.signatureMissing([SIGNATURE]);
      const signed = secrets.some((secret) => sameText(signature, createHmac('sha256', secret).update(body).digest('base64')));
      if (!signed) throw refuse.signatureInvalid();
    };
  },
};
