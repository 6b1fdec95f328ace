import { trace, type Attributes, type Tracer } from '@opentelemetry/api';

/** The instrumentation scope of every span the service makes. */
export const TRACER_NAME = 'webhook-relay';

/** The service's tracer: the SDK's when tracing is on, the API's no-op one otherwise. */
export function tracer(): Tracer {
  // Looked up per use: a tracer provider registered later (tests) is then the one used.
  return trace.getTracer(TRACER_NAME);
}

/**
 * Span attribute names. Messaging ones are OpenTelemetry's incubating
 * messaging conventions (not exported as stable constants yet); the
 * `webhook_relay.*` ones are this service's own.
 */
export const SpanAttributes = {
  messagingSystem: 'messaging.system',
  destinationName: 'messaging.destination.name',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  messageId: 'messaging.message.id',
  consumerGroup: 'messaging.consumer.group.name',
  /** How many times JetStream has delivered this message (1 on the first delivery). */
  deliveryCount: 'messaging.nats.delivery_count',
  /** The JetStream stream sequence of the message. */
  streamSequence: 'messaging.nats.stream_sequence',
  source: 'webhook_relay.source',
  /** What became of the delivery: `ack`, `nak`, `term`, `dead_letter`. */
  outcome: 'webhook_relay.outcome',
  /** The failure's stable code, when the delivery failed. */
  errorCode: 'webhook_relay.error.code',
  /** Milliseconds the nak asks JetStream to wait before redelivering. */
  retryDelayMs: 'webhook_relay.retry.delay_ms',
  dependencyName: 'webhook_relay.dependency.name',
  /** Milliseconds the call waited in the actor's mailbox (rate limit, concurrency, `Retry-After` pause). */
  mailboxWaitMs: 'webhook_relay.dependency.mailbox_wait_ms',
  /** The breaker state the call met: `closed`, `halfOpen` (the probe) or `open` (refused). */
  breakerState: 'webhook_relay.dependency.breaker_state',
} as const;

/** `messaging.system` of every messaging span. */
export const MESSAGING_SYSTEM = 'nats';

/**
 * Adds an event to the active span when it records (a step of the work:
 * `webhook.signature.verified` ...); `attributes` is called only then, so a
 * no-op span costs no object.
 */
export function addSpanEvent(name: string, attributes?: () => Attributes): void {
  const span = trace.getActiveSpan();
  if (span?.isRecording()) span.addEvent(name, attributes?.());
}
