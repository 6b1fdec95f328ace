import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { refuse } from '../errors/ingestError.js';

/**
 * Headers that carry the sender's delivery id, in order of preference.
 * `svix-id` comes before `webhook-id` because the signature check reads it
 * first too (as Svix does): the stored id is then always the signed one.
 */
export const DELIVERY_ID_HEADERS = ['svix-id', 'webhook-id', 'x-github-delivery', 'x-shopify-webhook-id', 'idempotency-key'] as const;

/** Headers that carry the sender's event type, in order of preference. */
export const EVENT_TYPE_HEADERS = ['x-github-event', 'x-event-type', 'x-webhook-event', 'x-gitlab-event', 'x-shopify-topic'] as const;

const ID_PATTERN = /^[\x21-\x7e]{1,200}$/;

/** A delivery id and whether the sender supplied it. */
export interface DeliveryId {
  id: string;
  generated: boolean;
}

/**
 * The sender's delivery id, or a generated UUID when it sent none.
 * @throws IngestError INGEST_BAD_HEADER when the id is empty, too long or not visible ASCII.
 */
export function deliveryId(headers: IncomingHttpHeaders): DeliveryId {
  for (const name of DELIVERY_ID_HEADERS) {
    const raw = headers[name];
    if (raw === undefined) continue;
    const value = Array.isArray(raw) ? raw[0]! : raw;
    if (!ID_PATTERN.test(value)) throw refuse.badHeader(name, 'must be 1 to 200 visible ASCII characters');
    return { id: value, generated: false };
  }
  return { id: randomUUID(), generated: true };
}

/**
 * A delivery id the sender put in its signed body (Stripe's event `id`), when
 * it is a usable id; it then replaces any header id, which is not signed.
 */
export function bodyDeliveryId(value: unknown): DeliveryId | undefined {
  return typeof value === 'string' && ID_PATTERN.test(value) ? { id: value, generated: false } : undefined;
}

/** The sender's event type header value, if any (at most 200 visible characters). */
export function eventType(headers: IncomingHttpHeaders): string | undefined {
  for (const name of EVENT_TYPE_HEADERS) {
    const raw = headers[name];
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (value && ID_PATTERN.test(value)) return value;
  }
  return undefined;
}
