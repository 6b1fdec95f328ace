import { createHmac } from 'node:crypto';
import { refuse } from '../errors/ingestError.js';
import { bodyField, header, sameText, SIGNATURE_TOLERANCE_S, type SignatureScheme } from './scheme.js';

const SIGNATURE = 'x-slack-signature';
const TIMESTAMP = 'x-slack-request-timestamp';

/**
 * Slack (`X-Slack-Signature: v0=<hex>`): hex HMAC-SHA256 of
 * `v0:<X-Slack-Request-Timestamp>:<body>` with the app's signing secret; the
 * timestamp must be within five minutes of now, either way (Slack's
 * "Verifying requests from Slack"). The Events API's `event_id` in the body
 * is the delivery id.
 */
export const slackScheme: SignatureScheme = {
  name: 'slack',
  headers: [SIGNATURE, TIMESTAMP],
  verifier(secrets) {
    return (headers, body) => {
      const signature = header(headers, SIGNATURE);
      const timestamp = header(headers, TIMESTAMP);
      if (signature === undefined || timestamp === undefined) throw refuse.signatureMissing([SIGNATURE, TIMESTAMP]);
      if (!/^\d{1,12}$/.test(timestamp)) throw refuse.signatureInvalid();
      if (Math.abs(Date.now() / 1000 - Number(timestamp)) > SIGNATURE_TOLERANCE_S) throw refuse.signatureExpired(TIMESTAMP, SIGNATURE_TOLERANCE_S);
      const signed = secrets.some((secret) => {
        const expected = createHmac('sha256', secret).update(`v0:${timestamp}:`).update(body).digest('hex');
        return sameText(signature, `v0=${expected}`);
      });
      if (!signed) throw refuse.signatureInvalid();
    };
  },
  bodyDeliveryId: (body) => bodyField(body, 'event_id'),
};
