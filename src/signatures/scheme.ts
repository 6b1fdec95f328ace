import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * How far a signed timestamp may be from now, either way, in seconds: the
 * tolerance of Standard Webhooks (the `standardwebhooks` library's
 * `WEBHOOK_TOLERANCE_IN_SECONDS`), Stripe (`DEFAULT_TOLERANCE`) and Slack.
 */
export const SIGNATURE_TOLERANCE_S = 5 * 60;

/**
 * Checks one request's signature; returns (or resolves) when it verifies.
 * @throws IngestError INGEST_SIGNATURE_MISSING, INGEST_SIGNATURE_INVALID or INGEST_SIGNATURE_EXPIRED
 */
export type WebhookVerifier = (headers: IncomingHttpHeaders, body: Buffer) => void | Promise<void>;

/** One provider's way of signing webhooks; `WEBHOOK_SIGNATURE_<SOURCE>` names it. */
export interface SignatureScheme {
  /** The name `WEBHOOK_SIGNATURE_<SOURCE>` takes. */
  readonly name: string;
  /** The headers a signed request carries, for the INGEST_SIGNATURE_MISSING message. */
  readonly headers: readonly string[];
  /**
   * Builds the verifier of one source, once at start.
   * @param secrets the current secret first, then the previous one while rotating
   * @throws RangeError saying why when a secret cannot be used with this scheme
   */
  verifier(secrets: readonly string[]): WebhookVerifier;
  /**
   * The provider's delivery id inside the signed body, for providers that put
   * it there (Stripe's event `id`, Slack's `event_id`). Being signed, it is
   * preferred over any delivery id header, which a replayer could change.
   */
  bodyDeliveryId?(body: unknown): unknown;
}

/** A header's value (the first, if repeated); undefined when absent or empty. */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  const value = Array.isArray(v) ? v[0] : v;
  return value === '' ? undefined : value;
}

/** Whether two strings are byte for byte equal, in time that depends only on their lengths. */
export function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A field of a JSON object body, if the body is an object that has it. */
export function bodyField(body: unknown, field: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[field] : undefined;
}
