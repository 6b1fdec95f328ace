import { headers, type MsgHdrs } from '@nats-io/transport-node';
import { ErrorCodes } from '../errors/codes.js';
import { isServiceError } from '../errors/serviceError.js';
import { refuse, StreamUnavailableReasons as Reasons } from '../errors/ingestError.js';
import { AckError, PublishAckMux } from '../bus/ackMux.js';
import type { NatsLink } from '../bus/connection.js';
import { endSendSpan, markFailed, startSendSpan } from '../tracing/messagingSpans.js';
import { addSpanEvent } from '../tracing/tracer.js';
import { WEBHOOKS_STREAM, WebhookHeaders, webhookSubject } from '../bus/names.js';

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
   * How long to wait for JetStream's ack of one attempt.
   * @default 5000
   */
  ackTimeoutMs?: number;
  /**
   * How long a webhook may be retried, from its first attempt, while the
   * stream has no leader, no quorum or no connection (`INGEST_PUBLISH_DEADLINE`);
   * past it the sender gets `503` with `Retry-After`.
   * @default 8000
   */
  deadlineMs?: number;
}

// Pauses between attempts: 100 ms doubling to at most 500 ms (an election takes seconds; the next attempt should not wait long after it).
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 500;
// JetStream's "system temporarily unavailable" and "cluster can not handle request" (no leader,
// no quorum): worth another attempt. A full stream (also a 503) is not.
const RETRIABLE_API_ERRORS: ReadonlySet<number | undefined> = new Set([10008, 10009]);

/**
 * Publishes accepted webhooks to `webhooks.<source>` and resolves only on
 * JetStream's ack. The delivery id is the `Nats-Msg-Id`, so a resend inside
 * the stream's duplicate window is acknowledged as a duplicate. It records
 * no status: until processing writes one, the stored message is the status
 * (`queued`, read by `findStoredWebhook`).
 */
export class WebhookPublisher {
  private readonly ackTimeoutMs: number;
  private readonly deadlineMs: number;
  private mux: PublishAckMux | undefined;

  constructor(
    private readonly link: NatsLink,
    options: PublisherOptions = {},
  ) {
    this.ackTimeoutMs = options.ackTimeoutMs ?? 5000;
    this.deadlineMs = options.deadlineMs ?? 8000;
  }

  /**
   * @throws IngestError INGEST_STREAM_UNAVAILABLE when NATS is not connected,
   * closes, has no stream for the subject or does not ack in time (the cause in
   * `details.reason`), INGEST_STREAM_REFUSED when the stream refuses it (its
   * `err_code` in `details.errCode`), INGEST_BODY_TOO_LARGE when body and
   * headers exceed the server's `max_payload`.
   */
  async publish(w: AcceptedWebhook): Promise<StoredWebhook> {
    const deadline = Date.now() + this.deadlineMs;
    const subject = webhookSubject(w.source);
    const headers = toHeaders(w);
    const span = startSendSpan(subject, w.id, headers);
    let stored: StoredWebhook;
    for (let attempt = 1; ; attempt++) {
      try {
        stored = await this.attempt(subject, w.body, headers, deadline);
        break;
      } catch (e) {
        const refused = classify(e);
        const pause = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (attempt - 1));
        if (!worthRetrying(e) || Date.now() + pause >= deadline) {
          markFailed(span, refused);
          span.end();
          throw refused;
        }
        addSpanEvent('webhook.publish.retried', () => ({ 'webhook_relay.attempt': attempt, 'webhook_relay.error.reason': reasonOf(refused) }));
        await this.pause(pause);
      }
    }
    endSendSpan(span, stored);
    return stored;
  }

  /**
   * One attempt: the same message, `Nats-Msg-Id` and all, so a retry of a
   * publish that was stored but not acknowledged is a duplicate, never a
   * second copy. It waits for the ack at most until `deadline`.
   */
  private async attempt(subject: string, body: Uint8Array, headers: MsgHdrs, deadline: number): Promise<StoredWebhook> {
    const nc = this.link.nc;
    if (!nc || !this.link.ready) throw refuse.streamUnavailable(this.link.status().reason);
    this.mux ??= new PublishAckMux(nc, this.ackTimeoutMs);
    const left = deadline - Date.now();
    // The mux gives up after ackTimeoutMs itself: a timer of our own only when the deadline comes first.
    if (left >= this.ackTimeoutMs) return this.mux.publish(subject, body, headers);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new AckError({ kind: 'timeout' })), Math.max(0, left));
    });
    try {
      return await Promise.race([this.mux.publish(subject, body, headers), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits `ms` before the next attempt. */
  private pause(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
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

/**
 * Whether another attempt may succeed soon: no connection (reconnecting),
 * no ack in time, no responder (a stream without a leader), or JetStream
 * "temporarily unavailable". Limits reached, a body too large or a
 * connection closed for good are answered at once.
 */
function worthRetrying(e: unknown): boolean {
  if (isServiceError(e)) return e.code === ErrorCodes.INGEST_STREAM_UNAVAILABLE;
  if (!(e instanceof AckError)) return false;
  const f = e.failure;
  return f.kind === 'timeout' || f.kind === 'noResponders' || (f.kind === 'api' && RETRIABLE_API_ERRORS.has(f.errCode));
}

/** The `details.reason` (or err_code) of a refusal, for the retry's span event. */
function reasonOf(refused: Error): string {
  const details = (refused as { details?: { reason?: string; errCode?: number } }).details;
  return details?.reason ?? (details?.errCode === undefined ? 'unknown' : String(details.errCode));
}

function classify(e: unknown): Error {
  if (isServiceError(e)) return e;
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
    case 'denied':
      return refuse.streamUnavailable(`NATS denied this service's user publish to ${f.subject} (see its permissions)`, Reasons.permissionDenied, e);
  }
}
