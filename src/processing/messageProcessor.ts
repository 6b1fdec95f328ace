import { context, type Span } from '@opentelemetry/api';
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { Deps } from '../dependencies/mod.js';
import { writeDeadLetter } from './deadLetters/deadLetterWriter.js';
import { parseJsonBody } from '../ingest/body.js';
import type { SourceValidator } from '../ingest/validator.js';
import { isServiceError } from '../errors/serviceError.js';
import type { Log } from '../log.js';
import { kvKey } from '../store/kvKey.js';
import type { HandlerMeta, SourceHandler } from './handler.js';
import type { ProcessingEvents } from './processingEvents.js';
import { ProcessingError, ProcessingErrorCodes } from './processingError.js';
import { decideRetry, summarizeFailure, type RetryPolicy } from './retryDecision.js';
import type { KvWriter } from '../store/kvWriter.js';
import { DeliveryStatus } from '../store/deliveryStatus.js';
import { stepInputHash, type StepJournal } from '../store/stepJournal.js';
import type { WebhookStatus } from '../store/webhookStatus.js';
import { markFailed, recordOutcome, startProcessSpan } from '../tracing/messagingSpans.js';
import { addSpanEvent } from '../tracing/tracer.js';
import type { PublishAckMux } from '../bus/ackMux.js';
import { DEAD_LETTERS_STREAM, WebhookHeaders } from '../bus/names.js';

/** The body of an acknowledgement, as `JsMsg.ack()` sends it. */
const ACK = new TextEncoder().encode('+ACK');

/** What the processor needs. */
export interface MessageProcessorOptions {
  js: JetStreamClient;
  kv: KvWriter;
  /** Where acks are sent and their confirmations awaited (one reply subscription for every ack). */
  acks: PublishAckMux;
  validator: SourceValidator;
  retry: RetryPolicy;
  events: ProcessingEvents;
  log: Log;
  /** Where finished steps are journaled; undefined runs every step every time. */
  steps?: StepJournal;
}

/** The step runner of one delivery, and the steps it found or finished. */
interface DeliverySteps {
  step: HandlerMeta['step'];
  finished: Set<string>;
}

/**
 * Runs one delivery of one webhook: validate, handle, store the results,
 * record the status, then ack; or nak with the retry delay; or, for a
 * permanent failure, copy it to `DEAD_LETTERS` and term it.
 */
export class WebhookMessageProcessor {
  constructor(private readonly o: MessageProcessorOptions) {}

  /**
   * Processes `msg` inside its CONSUMER span, which continues the trace its
   * headers carry; never throws.
   */
  async process(msg: JsMsg, handler: SourceHandler, deps: Deps, signal: AbortSignal): Promise<void> {
    const id = msg.headers?.get(WebhookHeaders.Id) || `seq-${msg.seq}`;
    const trace = startProcessSpan({
      subject: msg.subject,
      headers: msg.headers,
      messageId: id,
      consumer: msg.info.consumer,
      seq: msg.seq,
      deliveryCount: msg.info.deliveryCount,
    });
    try {
      await context.with(trace.context, () => this.run(msg, id, handler, deps, signal, trace.span));
    } finally {
      trace.span.end();
    }
  }

  private async run(msg: JsMsg, id: string, handler: SourceHandler, deps: Deps, signal: AbortSignal, span: Span): Promise<void> {
    const source = handler.source;
    const deliveries = msg.info.deliveryCount;
    const started = Date.now();
    const base = { id, source, seq: msg.seq, deliveries };
    // A redelivery may be of a webhook that is done already (its ack was
    // lost, or its ack_wait passed while it ran): then it is only acked.
    let revision: number | undefined;
    if (deliveries > 1) {
      const stored = await this.o.kv.statusEntry(source, id).catch((err) => {
        this.o.log.warn({ err, source, id }, 'status not read before a redelivery; processing it');
        return undefined;
      });
      if (stored?.status.status === 'done' && stored.status.seq === msg.seq) return this.skipDone(msg, base, span);
      revision = stored ? stored.revision : undefined;
    }
    const status = new DeliveryStatus(this.o.kv, revision, deliveries === 1);
    this.o.events.emit({ type: 'webhook.processing', source, id, seq: msg.seq, deliveries, at: started });
    // Quick handlers go straight from queued to done and arm one timer; a
    // slow one shows as processing. (Its consumer tells JetStream it is busy.)
    const slow = setTimeout(() => void this.status(status, { ...base, status: 'processing' }), 250);
    const steps = this.steps(msg, handler, id);
    try {
      const payload = this.payload(msg, source);
      const results = await handler.handle(payload, deps, {
        step: steps.step,
        source,
        id,
        seq: msg.seq,
        deliveryCount: deliveries,
        receivedAt: msg.headers?.get(WebhookHeaders.ReceivedAt) || undefined,
        eventType: msg.headers?.get(WebhookHeaders.EventType) || undefined,
        signal,
      });
      if (signal.aborted) throw new ProcessingError(ProcessingErrorCodes.PROCESSING_INTERRUPTED, 'the service is stopping', { retriable: true });
      const processedAt = new Date().toISOString();
      try {
        await Promise.all([
          ...results.map((r) => this.o.kv.put(source, kvKey(r.key), { ...(r.value as object), processedAt })),
          status.write({
            ...base,
            status: 'done',
            ...(results[0] ? { result: { bucket: source, key: kvKey(results[0].key) } } : {}),
            updatedAt: processedAt,
          }),
        ]);
      } catch (e) {
        throw new ProcessingError(ProcessingErrorCodes.PROCESSING_STORE_FAILED, `result not stored: ${(e as Error).message}`, { retriable: true, cause: e });
      }
      addSpanEvent('webhook.results.stored', () => ({ 'webhook_relay.results': results.length, 'webhook_relay.status': 'done' }));
      const confirmed = await this.ackConfirmed(msg);
      recordOutcome(span, confirmed ? 'ack' : 'ackUnconfirmed');
      this.o.events.emit({ type: confirmed ? 'webhook.done' : 'webhook.ackUnconfirmed', source, id, seq: msg.seq, deliveries, durationMs: Date.now() - started, at: Date.now() });
    } catch (e) {
      if (signal.aborted) return recordOutcome(span, 'interrupted'); // handed back by stop()
      await this.fail(msg, base, status, e, Date.now() - started, span, [...steps.finished]);
    } finally {
      clearTimeout(slow);
    }
  }

  /**
   * The steps of this delivery. Journaled only where it can pay: a pipeline
   * that needs two dependencies or more (with one, a retry repeats nothing
   * that succeeded). The journal is read only on a redelivery, or on a replay
   * asked to resume, and only for the sequence being delivered (a replay
   * starts clean unless it names the one it resumes).
   */
  private steps(msg: JsMsg, handler: SourceHandler, id: string): DeliverySteps {
    const finished = new Set<string>();
    const journal = this.o.steps;
    if (!journal || handler.needs.length < 2) return { finished, step: (_name, input, run) => run(input) };
    const source = handler.source;
    const resumeOf = Number(msg.headers?.get(WebhookHeaders.ResumeStepsOf) || 0);
    const readable = new Set([msg.seq, ...(Number.isSafeInteger(resumeOf) && resumeOf > 0 ? [resumeOf] : [])]);
    const mayHaveSteps = msg.info.deliveryCount > 1 || readable.size > 1;
    const step = async <I, T>(name: string, input: I, run: (input: I) => Promise<T>): Promise<T> => {
      const inputHash = stepInputHash(input);
      if (mayHaveSteps) {
        const entry = await journal.get(source, id, name).catch((err) => {
          this.o.log.warn({ err, source, id, step: name }, 'journal not read; running the step');
          return undefined;
        });
        if (entry && readable.has(entry.seq) && entry.input === inputHash) {
          finished.add(name);
          addSpanEvent('webhook.step.replayed', () => ({ 'webhook_relay.step': name }));
          return entry.value as T;
        }
      }
      const value = await run(input);
      try {
        await journal.put(source, id, name, { id, step: name, seq: msg.seq, input: inputHash, value, at: new Date().toISOString() });
        finished.add(name);
      } catch (err) {
        // The step's result still counts for this delivery; only a retry would call again.
        this.o.log.warn({ err, source, id, step: name }, 'step not journaled');
      }
      return value;
    };
    return { finished, step };
  }

  /** Acks and waits for JetStream to confirm it: only then is the webhook counted done. */
  private async ackConfirmed(msg: JsMsg): Promise<boolean> {
    try {
      // Its reply subject (`$JS.ACK.…`), which nats.js's message has but its interface does not name.
      const reply = (msg as JsMsg & { reply?: string }).reply;
      if (!reply) return await msg.ackAck();
      await this.o.acks.confirm(reply, ACK);
      return true;
    } catch (err) {
      this.o.log.warn({ err, seq: msg.seq }, 'ack not confirmed; its status is done, so a redelivery is only acked');
      return false;
    }
  }

  /** A redelivery of a webhook done for this sequence: acked, counted, never handled again. */
  private async skipDone(msg: JsMsg, base: Omit<WebhookStatus, 'status' | 'updatedAt'>, span: Span): Promise<void> {
    await this.ackConfirmed(msg);
    recordOutcome(span, 'ack', { duplicate: true });
    this.o.events.emit({ type: 'webhook.duplicateSkipped', source: base.source, id: base.id, seq: base.seq, deliveries: base.deliveries, at: Date.now() });
  }

  private payload(msg: JsMsg, source: string): unknown {
    try {
      const payload = parseJsonBody(Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength));
      this.o.validator.validate(source, payload);
      return payload;
    } catch (e) {
      const details = isServiceError(e) ? { code: e.code, details: e.details } : undefined;
      throw new ProcessingError(ProcessingErrorCodes.PROCESSING_PAYLOAD_INVALID, `stored payload is not a valid '${source}' webhook: ${(e as Error).message}`, {
        retriable: false,
        details,
      });
    }
  }

  private async fail(
    msg: JsMsg,
    base: Omit<WebhookStatus, 'status' | 'updatedAt'>,
    status: DeliveryStatus,
    error: unknown,
    durationMs: number,
    span: Span,
    stepsDone: string[],
  ): Promise<void> {
    const { source, id, deliveries } = base;
    const lastError = summarizeFailure(error);
    markFailed(span, error);
    const decision = decideRetry(error, deliveries, this.o.retry);
    const now = new Date();
    const common = { source, id, seq: msg.seq, deliveries, code: lastError.code, durationMs, at: now.getTime() };
    if (decision.kind === 'retry') {
      msg.nak(decision.delayMs);
      recordOutcome(span, 'nak', { code: lastError.code, retryDelayMs: decision.delayMs });
      this.o.events.emit({ type: 'webhook.retrying', ...common, delayMs: decision.delayMs });
      await this.status(status, { ...base, status: 'retrying', lastError, retryAt: now.getTime() + decision.delayMs });
      return;
    }
    if (decision.kind === 'exhausted') {
      // The server emits MAX_DELIVERIES once it would deliver again; the mover copies it then.
      await this.status(status, { ...base, status: 'retrying', lastError });
      msg.nak();
      // The server dead-letters it (MAX_DELIVERIES) instead of delivering it again.
      recordOutcome(span, 'nak', { code: lastError.code, deadLettered: true });
      this.o.events.emit({ type: 'webhook.failed', ...common });
      return;
    }
    // Another delivery may have finished it meanwhile: then there is nothing to dead-letter.
    const stored = await this.o.kv.statusEntry(source, id).catch(() => undefined);
    if (stored?.status.status === 'done' && stored.status.seq === msg.seq) return this.skipDone(msg, base, span);
    try {
      const dl = await writeDeadLetter(
        this.o.js,
        { subject: msg.subject, seq: msg.seq, data: msg.data, headers: msg.headers },
        { reason: 'terminated', deliveries, lastError: `${lastError.code}: ${lastError.message}`, failedAt: now, stepsDone },
      );
      await this.status(status, { ...base, status: 'dead', lastError, deadLetter: { stream: DEAD_LETTERS_STREAM, subject: dl.subject } });
      // No reason argument: nats-server 2.9 ignores a `+TERM <reason>` and redelivers.
      // The reason lives in the dead letter's headers and the status instead.
      msg.term();
      recordOutcome(span, 'term', { code: lastError.code, deadLettered: true });
      this.o.events.emit({ type: 'webhook.deadLettered', ...common, reason: 'terminated' });
    } catch (e) {
      // Not copied: keep it and try again later rather than lose it.
      this.o.log.warn({ err: e, source, seq: msg.seq }, 'dead letter not written; retrying later');
      msg.nak(this.o.retry.backoffMs[0]);
      recordOutcome(span, 'nak', { code: lastError.code, retryDelayMs: this.o.retry.backoffMs[0] });
    }
  }

  private async status(delivery: DeliveryStatus, s: Omit<WebhookStatus, 'updatedAt'>): Promise<void> {
    try {
      const written = await delivery.write({ ...s, updatedAt: new Date().toISOString() });
      addSpanEvent(written ? 'webhook.status.recorded' : 'webhook.status.superseded', () => ({ 'webhook_relay.status': s.status }));
    } catch (e) {
      this.o.log.warn({ err: e, source: s.source, id: s.id }, 'status not recorded');
    }
  }
}
