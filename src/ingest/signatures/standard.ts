import type { IncomingHttpHeaders } from 'node:http';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { refuse } from '../ingestError.js';
import { header, SIGNATURE_TOLERANCE_S, type SignatureScheme } from './scheme.js';

const HEADERS = ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const;

/**
 * A Standard Webhooks header, read as Svix's own `Webhook.verify` does: the
 * `svix-` spelling first (what Svix sends by default), else `webhook-`.
 */
function signedHeader(headers: IncomingHttpHeaders, name: (typeof HEADERS)[number]): string | undefined {
  return header(headers, name.replace('webhook-', 'svix-')) ?? header(headers, name);
}

/** Whether the timestamp is one the library refuses as too old or too new (decides only the error code). */
function outsideTolerance(timestamp: string): boolean {
  const seconds = parseInt(timestamp, 10);
  return !Number.isNaN(seconds) && Math.abs(Math.floor(Date.now() / 1000) - seconds) > SIGNATURE_TOLERANCE_S;
}

/**
 * Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`,
 * or their `svix-` spellings), verified by the `standardwebhooks` library.
 * Secrets are `whsec_` followed by base64 (or bare base64), as the library reads them.
 */
export const standardScheme: SignatureScheme = {
  name: 'standard',
  headers: HEADERS,
  verifier(secrets) {
    const hooks = secrets.map((secret) => {
      try {
        return new Webhook(secret);
      } catch {
        throw new RangeError('is not a Standard Webhooks secret (whsec_ followed by base64)');
      }
    });
    return (headers, body) => {
      const signed = {
        'webhook-id': signedHeader(headers, 'webhook-id'),
        'webhook-timestamp': signedHeader(headers, 'webhook-timestamp'),
        'webhook-signature': signedHeader(headers, 'webhook-signature'),
      };
      if (!signed['webhook-id'] || !signed['webhook-timestamp'] || !signed['webhook-signature']) throw refuse.signatureMissing(HEADERS);
      for (const hook of hooks) {
        try {
          hook.verify(body, signed as Record<string, string>, { jsonParse: false });
          return;
        } catch (e) {
          if (!(e instanceof WebhookVerificationError)) throw e;
        }
      }
      throw outsideTolerance(signed['webhook-timestamp'])
        ? refuse.signatureExpired('webhook-timestamp', SIGNATURE_TOLERANCE_S)
        : refuse.signatureInvalid();
    };
  },
};
