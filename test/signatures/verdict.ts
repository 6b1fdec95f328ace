import { expect } from 'chai';
import type { IngestOutcome } from '../helpers/signedIngest.js';

/** What a provider's own verifier decided: accepted, or refused with the service's code for that reason. */
export type Verdict = { accept: true } | { accept: false; code: 'INGEST_SIGNATURE_MISSING' | 'INGEST_SIGNATURE_INVALID' | 'INGEST_SIGNATURE_EXPIRED' };

export const ACCEPT: Verdict = { accept: true };
export const refused = (code: 'MISSING' | 'INVALID' | 'EXPIRED'): Verdict => ({ accept: false, code: `INGEST_SIGNATURE_${code}` });

/** Asserts the service decided as the verifier: 202, or 401 with the same reason. */
export function expectSameDecision(outcome: IngestOutcome, verdict: Verdict): void {
  if (verdict.accept) expect(outcome, 'the verifier accepts this request').to.include({ status: 202 });
  else expect(outcome, 'the verifier refuses this request').to.include({ status: 401, code: verdict.code });
}
