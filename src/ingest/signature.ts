import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { refuse } from './ingestError.js';

/** Standard Webhooks allows timestamps this far from now, either way. */
const TIMESTAMP_TOLERANCE_S = 5 * 60;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function equal(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The HMAC key of a Standard Webhooks secret: base64 after `whsec_`, else the raw text. */
function standardKey(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
}

/**
 * Verifies a request signed with Standard Webhooks (`webhook-id`,
 * `webhook-timestamp`, `webhook-signature`) or GitHub (`x-hub-signature-256`)
 * against any of `secrets` (several while a secret is being rotated).
 * Digests are compared in constant time.
 * @throws IngestError INGEST_SIGNATURE_MISSING, INGEST_SIGNATURE_INVALID or INGEST_SIGNATURE_EXPIRED
 */
export function verifySignature(
  source: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
  secrets: readonly string[],
  nowMs: number = Date.now(),
): void {
  const swSignature = header(headers, 'webhook-signature');
  if (swSignature !== undefined) return verifyStandard(headers, swSignature, body, secrets, nowMs);
  const ghSignature = header(headers, 'x-hub-signature-256');
  if (ghSignature !== undefined) return verifyGithub(ghSignature, body, secrets);
  throw refuse.signatureMissing(source);
}

function verifyStandard(
  headers: IncomingHttpHeaders,
  signatureHeader: string,
  body: Buffer,
  secrets: readonly string[],
  nowMs: number,
): void {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  if (!id || !timestamp) throw refuse.signatureMissing('this');
  if (!/^\d{1,12}$/.test(timestamp)) throw refuse.badHeader('webhook-timestamp', 'must be Unix seconds');
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > TIMESTAMP_TOLERANCE_S) throw refuse.signatureExpired(TIMESTAMP_TOLERANCE_S);

  const offered: Buffer[] = [];
  for (const entry of signatureHeader.split(' ')) {
    const [version, value] = entry.split(',', 2);
    if (version === 'v1' && value) offered.push(Buffer.from(value, 'base64'));
  }
  if (offered.length === 0) throw refuse.signatureInvalid();
  const prefix = Buffer.from(`${id}.${timestamp}.`, 'utf8');
  for (const secret of secrets) {
    const expected = createHmac('sha256', standardKey(secret)).update(prefix).update(body).digest();
    if (offered.some((sig) => equal(sig, expected))) return;
  }
  throw refuse.signatureInvalid();
}

function verifyGithub(signatureHeader: string, body: Buffer, secrets: readonly string[]): void {
  const match = /^sha256=([0-9a-f]{64})$/i.exec(signatureHeader.trim());
  if (!match) throw refuse.signatureInvalid();
  const offered = Buffer.from(match[1]!, 'hex');
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(body).digest();
    if (equal(offered, expected)) return;
  }
  throw refuse.signatureInvalid();
}
