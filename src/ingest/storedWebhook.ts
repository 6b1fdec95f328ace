import { Empty } from '@nats-io/transport-node';
import { JetStreamApiCodes, JetStreamApiError, type JetStreamClient, type JetStreamManager, type StoredMsg } from '@nats-io/jetstream';
import { unlessMissing } from '../bus/missing.js';
import { WEBHOOKS_STREAM, WebhookHeaders, webhookSubject } from '../bus/names.js';

/** A last sequence no stream reaches: a publish expecting it is never stored. */
const NEVER = Number.MAX_SAFE_INTEGER;

/**
 * The webhook `webhooks.<source>` holds under delivery id `id`, found in
 * `WEBHOOKS`' duplicate index without storing anything: a publish of an
 * empty message with that `Nats-Msg-Id` and a last sequence the stream never
 * reaches is answered `duplicate` with the stored message's sequence when the
 * id is known, and refused (10071) when it is not. The index remembers an id
 * for `DUPLICATE_WINDOW` after it was stored; processing records `queued` for
 * a webhook that waits longer ({@link QueuedSweep}).
 *
 * @returns the stored message; undefined when the id is unknown, names
 *   another source's webhook, or its message is gone (processed meanwhile)
 * @throws JetStreamApiError or a connection error when the stream cannot answer
 */
export async function findStoredWebhook(js: JetStreamClient, jsm: JetStreamManager, source: string, id: string): Promise<StoredMsg | undefined> {
  let seq: number;
  try {
    const ack = await js.publish(webhookSubject(source), Empty, { msgID: id, expect: { streamName: WEBHOOKS_STREAM, lastSequence: NEVER } });
    if (!ack.duplicate) return undefined;
    seq = ack.seq;
  } catch (e) {
    if (e instanceof JetStreamApiError && e.code === JetStreamApiCodes.StreamWrongLastSequence) return undefined;
    throw e;
  }
  const m = await unlessMissing(jsm.streams.getMessage(WEBHOOKS_STREAM, { seq }));
  // Delivery ids are per stream: the same id under another source is not this webhook.
  if (!m || m.subject !== webhookSubject(source) || (m.header.get(WebhookHeaders.Id) || undefined) !== id) return undefined;
  return m;
}
