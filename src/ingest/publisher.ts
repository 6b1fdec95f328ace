import { headers, type MsgHdrs } from '@nats-io/transport-node';
import { refuse, StreamUnavailableReasons as Reasons } from './ingestError.js';
import { AckError, PublishAckMux } from '../stream/ackMux.js';
import type { NatsLink } from '../stream/connection.js';
import { WEBHOOKS_STREAM, WebhookHeaders, webhookSubject } from '../stream/webhookNames.js';
import { queuedMarker } from '../store/webhookStatus.js';
import { endSendSpan, markFailed, startSendSpan } from '../tracing/messagingSpans.js';

/** One webhook, as accepted at the HTTP edge. */
export interface AcceptedWebhook {
  source: string;
  id: string;
  idGenerated: boolean;
  body: Uint8Array;
  contentType: string;
  receivedAt: Date;
  eventType: string | undefined;
}

/** The stream's acknowledgement of a stored webhook. */
export interface StoredWebhook {
  seq: number;
  duplicate: boolean;
}

/** Options for {@link WebhookPublisher}. */
export interface PublisherOptions {
  /**
   * How long to wait for JetStream's publish ack.
   * @default 5000
   */
  ackTimeoutMs?: number;
}

/**
 * Publishes accepted webhooks to `webhooks.<source>` and resolves only on
 * JetStream's ack. The delivery id is the `Nats-Msg-Id`, so a resend inside
 * the stream's duplicate window is acknowledged as a duplicate.
 */
export class WebhookPublisher {
  private readonly ackTimeoutMs: number;
  private mux: PublishAckMux | undefined;

  constructor(
    private readonly link: NatsLink,
    options: PublisherOptions = {},
  ) {
    this.ackTimeoutMs = options.ackTimeoutMs ?? 5000;
  }

  /**
   * @throws IngestError INGEST_STREAM_UNAVAILABLE when NATS is not connected,
   * closes, has no stream for the subject or does not ack in time (the cause in
   * `details.reason`), INGEST_STREAM_REFUSED when the stream refuses it (its
   * `err_code` in `details.errCode`), INGEST_BODY_TOO_LARGE when body and
   * headers exceed the server's `max_payload`.
   */
  async publish(w: AcceptedWebhook): Promise<StoredWebhook> {
    const nc = this.link.nc;
    if (!nc || !this.link.ready) throw refuse.streamUnavailable(this.link.status().reason);
    this.mux ??= new PublishAckMux(nc, this.ackTimeoutMs);
    const subject = webhookSubject(w.source);
    const headers = toHeaders(w);
    const span = startSendSpan(subject, w.id, headers);
    let stored: StoredWebhook;
    try {
      stored = await this.mux.publish(subject, w.body, headers);
    } catch (e) {
      const refused = classify(e);
      markFailed(span, refused);
      span.end();
      throw refused;
    }
    endSendSpan(span, stored);
    if (!stored.duplicate) this.markQueued(w, stored.seq);
    return stored;
  }

  /**
   * Records the `queued` status without waiting: only if the webhook has no
   * status yet (the processor's own records win), and harmless if lost.
   */
  private markQueued(w: AcceptedWebhook, seq: number): void {
    const m = queuedMarker({ id: w.id, source: w.source, seq, updatedAt: w.receivedAt.toISOString() });
    this.mux!.send(m.subject, m.data, m.headers);
  }

  /** Fails waiting publishes and releases the reply subscription. */
  close(): void {
    this.mux?.close();
  }
}

function toHeaders(w: AcceptedWebhook): MsgHdrs {
  const h = headers();
  h.set('Nats-Msg-Id', w.id);
  h.set('Nats-Expected-Stream', WEBHOOKS_STREAM);
  h.set(WebhookHeaders.Source, w.source);
  h.set(WebhookHeaders.Id, w.id);
  h.set(WebhookHeaders.IdOrigin, w.idGenerated ? 'generated' : 'sender');
  h.set(WebhookHeaders.ReceivedAt, w.receivedAt.toISOString());
  h.set(WebhookHeaders.ContentType, w.contentType);
  if (w.eventType) h.set(WebhookHeaders.EventType, w.eventType);
  return h;
}

function classify(e: unknown): Error {
  if (!(e instanceof AckError)) return refuse.streamUnavailable((e as Error)?.message ?? 'publish failed', Reasons.clientError, e);
  const f = e.failure;
  switch (f.kind) {
    case 'api':
      return refuse.streamRefused(f.description, f.errCode, e);
    case 'tooLarge':
      return refuse.payloadTooLarge(f.maxPayload);
    case 'timeout':
      return refuse.streamUnavailable('JetStream did not acknowledge in time', Reasons.timeout, e);
    case 'noResponders':
      return refuse.streamUnavailable('no JetStream stream answers for webhooks.*', Reasons.noResponders, e);
    case 'closed':
      return refuse.streamUnavailable('the NATS connection is closed', Reasons.closed, e);
    case 'failed':
      return refuse.streamUnavailable(`the NATS client did not send it: ${f.message}`, Reasons.clientError, e);
  }
}
