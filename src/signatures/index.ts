import { githubScheme } from './github.js';
import type { SignatureScheme } from './scheme.js';
import { shopifyScheme } from './shopify.js';
import { slackScheme } from './slack.js';
import { standardScheme } from './standard.js';
import { stripeScheme } from './stripe.js';

export { SIGNATURE_TOLERANCE_S, type SignatureScheme, type WebhookVerifier } from './scheme.js';

/** The scheme a source uses when `WEBHOOK_SIGNATURE_<SOURCE>` is unset. */
export const DEFAULT_SIGNATURE_SCHEME = standardScheme;

/** Every signature scheme, by the name `WEBHOOK_SIGNATURE_<SOURCE>` takes. */
export const signatureSchemes: ReadonlyMap<string, SignatureScheme> = new Map(
  [standardScheme, githubScheme, stripeScheme, shopifyScheme, slackScheme].map((s) => [s.name, s]),
);
