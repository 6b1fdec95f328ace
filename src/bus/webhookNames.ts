/** The stream every accepted webhook is stored in. */
export const WEBHOOKS_STREAM = 'WEBHOOKS';

/** Subject a source's webhooks are published to. */
export function webhookSubject(source: string): string {
  return `webhooks.${source}`;
}

/** NATS headers the ingest path sets on every stored webhook. */
export const WebhookHeaders = {
  /** The source name (also the last subject token). */
  Source: 'Webhook-Source',
  /** The sender's delivery id, or the generated one. */
  Id: 'Webhook-Id',
  /** `sender` when the delivery id came from the request, `generated` otherwise. */
  IdOrigin: 'Webhook-Id-Origin',
  /** ISO-8601 time the service received the request. */
  ReceivedAt: 'Webhook-Received-At',
  /** The sender's event type header, when it sent one. */
  EventType: 'Webhook-Event-Type',
  /** The request's Content-Type. */
  ContentType: 'Content-Type',
} as const;
