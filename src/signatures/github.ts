import { verifyWithFallback } from '@octokit/webhooks-methods';
import { refuse } from '../errors/ingestError.js';
import { header, type SignatureScheme } from './scheme.js';

const SIGNATURE = 'x-hub-signature-256';

/**
 * GitHub (`X-Hub-Signature-256: sha256=<hex>`), verified by
 * `@octokit/webhooks-methods`. The secret is any text; GitHub signs no
 * timestamp, so only the duplicate window stops a replay.
 */
export const githubScheme: SignatureScheme = {
  name: 'github',
  headers: [SIGNATURE],
  verifier([current, ...previous]) {
    if (current === undefined) throw new RangeError('needs a secret');
    return async (headers, body) => {
      const signature = header(headers, SIGNATURE);
      if (signature === undefined) throw refuse.signatureMissing([SIGNATURE]);
      let valid = false;
      try {
        // Typed `Promise<any>` by the package; it resolves to a boolean.
        valid = (await verifyWithFallback(current, body.toString('utf8'), signature, previous)) as boolean;
      } catch (e) {
        // octokit refuses an empty body with a TypeError rather than `false`.
        if (!(e instanceof TypeError)) throw e;
      }
      if (!valid) throw refuse.signatureInvalid();
    };
  },
};
