import { createHmac } from 'node:crypto';
import { refuse } from '../errors/ingestError.js';
import { bodyField, header, sameText, SIGNATURE_TOLERANCE_S, type SignatureScheme } from './scheme.js';

const SIGNATURE = 'stripe-signature';

/** `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`, split as stripe-node's `parseHeader` does (the last `t` wins). */
function parseStripeHeader(value: string): { timestamp: number; signatures: (string | undefined)[] } {
  let timestamp = -1;
  const signatures: (string | undefined)[] = [];
  for (const item of value.split(',')) {
    const [key, v] = item.split('=');
    if (key === 't') timestamp = parseInt(v!, 10);
    if (key === 'v1') signatures.push(v);
  }
  return { timestamp, signatures };
}

/**
 * Stripe (`Stripe-Signature: t=…,v1=…`): hex HMAC-SHA256 of `<t>.<body>`
 * with the endpoint secret (`whsec_…`, used as text), refused when `t` is
 * more than five minutes old. Decides as stripe-node's
 * `webhooks.constructEvent` (the `stripe` SDK is not a runtime dependency),
 * except that a `t` that is not a number is refused rather than signed as `NaN`.
 * The event `id` in the body is the delivery id.
 */
export const stripeScheme: SignatureScheme = {
  name: 'stripe',
  headers: [SIGNATURE],
  verifier(secrets) {
    return (headers, body) => {
      const value = header(headers, SIGNATURE);
      if (value === undefined) throw refuse.signatureMissing([SIGNATURE]);
      const { timestamp, signatures } = parseStripeHeader(value);
      // stripe-node throws on a `v1` entry without a value, so the whole header is refused.
      if (!Number.isFinite(timestamp) || timestamp === -1 || signatures.length === 0 || signatures.some((s) => !s)) {
        throw refuse.signatureInvalid();
      }
      const signed = secrets.some((secret) => {
        const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
        return signatures.some((s) => sameText(s!, expected));
      });
      if (!signed) throw refuse.signatureInvalid();
      // Stripe refuses only old timestamps, not future ones.
      if (Math.floor(Date.now() / 1000) - timestamp > SIGNATURE_TOLERANCE_S) throw refuse.signatureExpired('Stripe-Signature t', SIGNATURE_TOLERANCE_S);
    };
  },
  bodyDeliveryId: (body) => bodyField(body, 'id'),
};
