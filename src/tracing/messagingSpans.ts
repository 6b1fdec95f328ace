import { context, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import { injectTraceContext, extractTraceContext } from './natsHeaders.js';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import { MESSAGING_SYSTEM, SpanAttributes as A, tracer } from './tracer.js';

// A messaging span is named `{messaging.operation.name} {destination}` (OpenTelemetry
// messaging conventions); each name below is used for both.
const PUBLISH = 'publish';
const PROCESS = 'process';

/**
 * Starts the PRODUCER span `publish <subject>` (JetStream's publish: operation
 * type `send`) as a child of the active span and writes its trace context
 * into `headers`, so whoever processes the message continues the same
 * trace. End it with {@link endSendSpan}.
 */
export function startSendSpan(subject: string, messageId: string, headers: MsgHdrs): Span {
  const span = tracer().startSpan(`${PUBLISH} ${subject}`, { kind: SpanKind.PRODUCER });
  if (!span.isRecording()) return span;
  span.setAttributes({
    [A.messagingSystem]: MESSAGING_SYSTEM,
    [A.destinationName]: subject,
    [A.operationType]: 'send',
    [A.operationName]: PUBLISH,
    [A.messageId]: messageId,
  });
  injectTraceContext(headers, trace.setSpan(context.active(), span));
  return span;
}

/** One delivery of a stored message, as {@link startProcessSpan} describes it. */
export interface Delivery {
  subject: string;
  headers: MsgHdrs | undefined;
  messageId: string;
  /** The durable consumer's name. */
  consumer: string;
  seq: number;
  deliveryCount: number;
}

/**
 * Starts the CONSUMER span `process <subject>` of one delivery, the child of
 * the span that published it (from the message's `traceparent`), so every
 * delivery of a webhook, redeliveries included, lands in its ingest trace.
 * @returns the span and the context to run the processing in.
 */
export function startProcessSpan(d: Delivery): { span: Span; context: ReturnType<typeof context.active> } {
  const parent = extractTraceContext(d.headers);
  const span = tracer().startSpan(`${PROCESS} ${d.subject}`, { kind: SpanKind.CONSUMER }, parent);
  if (span.isRecording()) {
    span.setAttributes({
      [A.messagingSystem]: MESSAGING_SYSTEM,
      [A.destinationName]: d.subject,
      [A.operationType]: 'process',
      [A.operationName]: PROCESS,
      [A.messageId]: d.messageId,
      [A.consumerGroup]: d.consumer,
      [A.streamSequence]: d.seq,
      [A.deliveryCount]: d.deliveryCount,
    });
  }
  return { span, context: trace.setSpan(parent, span) };
}

/** Ends the PRODUCER span once JetStream has acknowledged the message. */
export function endSendSpan(span: Span, ack: { seq: number; duplicate: boolean }): void {
  if (span.isRecording()) span.addEvent('webhook.acked', { [A.streamSequence]: ack.seq, 'webhook_relay.duplicate': ack.duplicate });
  span.end();
}

/** What became of a delivery, as the CONSUMER span's `webhook_relay.outcome`. */
/** `ackUnconfirmed`: acked, but JetStream did not confirm it. */
export type DeliveryOutcome = 'ack' | 'ackUnconfirmed' | 'nak' | 'term' | 'interrupted';

/**
 * Records on the CONSUMER span how the delivery ended, as its
 * `webhook_relay.outcome` attribute and an event of the same name.
 */
export function recordOutcome(span: Span, outcome: DeliveryOutcome, details: { code?: string; retryDelayMs?: number; deadLettered?: boolean; duplicate?: boolean } = {}): void {
  if (!span.isRecording()) return;
  const attributes = {
    [A.outcome]: outcome,
    ...(details.code === undefined ? {} : { [A.errorCode]: details.code }),
    ...(details.retryDelayMs === undefined ? {} : { [A.retryDelayMs]: details.retryDelayMs }),
    ...(details.deadLettered === undefined ? {} : { 'webhook_relay.dead_lettered': details.deadLettered }),
    ...(details.duplicate === undefined ? {} : { 'webhook_relay.duplicate': details.duplicate }),
  };
  span.setAttributes(attributes);
  span.addEvent(`webhook.${outcome}`, attributes);
}

/** Marks `span` failed with `error` (an exception event and the error status), when it records. */
export function markFailed(span: Span, error: unknown): void {
  if (!span.isRecording()) return;
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/** Marks a span failed with the error's stable code as `error.type` (OpenTelemetry's convention for a failed operation). */
export function failSpan(span: Span, error: unknown): void {
  if (!span.isRecording()) return;
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') span.setAttribute(ATTR_ERROR_TYPE, code);
  markFailed(span, error);
}

/** The operations of a dependency call forwarded to its owner: a request and its handling. */
const REQUEST = 'send';

/**
 * Starts the CLIENT span `send <subject>` of a dependency call forwarded to
 * its owner (`webhook-relay.dep.<name>.call`), the child of the active span,
 * and returns the NATS headers that carry its context to the owner.
 */
export function startForwardSpan(subject: string, dependency: string): { span: Span; headers: MsgHdrs | undefined } {
  const span = tracer().startSpan(`${REQUEST} ${subject}`, { kind: SpanKind.CLIENT });
  // With tracing off the request carries no headers at all.
  if (!span.isRecording()) return { span, headers: undefined };
  const headers = natsHeaders();
  span.setAttributes({
    [A.messagingSystem]: MESSAGING_SYSTEM,
    [A.destinationName]: subject,
    [A.operationType]: 'send',
    [A.operationName]: REQUEST,
    [A.dependencyName]: dependency,
  });
  injectTraceContext(headers, trace.setSpan(context.active(), span));
  return { span, headers };
}

/**
 * Starts the SERVER span `process <subject>` in which an owner serves a
 * forwarded call, the child of the caller's CLIENT span (from the request's
 * `traceparent`), so the call's own `dependency.call` span lands in the
 * webhook's trace on whichever instance owns the dependency.
 * @returns the span and the context to serve the call in.
 */
export function startServeSpan(subject: string, dependency: string, headers: MsgHdrs | undefined): { span: Span; context: ReturnType<typeof context.active> } {
  const span = tracer().startSpan(`${PROCESS} ${subject}`, { kind: SpanKind.SERVER }, extractTraceContext(headers));
  if (span.isRecording()) {
    span.setAttributes({
      [A.messagingSystem]: MESSAGING_SYSTEM,
      [A.destinationName]: subject,
      [A.operationType]: 'process',
      [A.operationName]: PROCESS,
      [A.dependencyName]: dependency,
    });
  }
  return { span, context: trace.setSpan(context.active(), span) };
}
