import { type Consumer, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { Log } from '../../log.js';
import type { ProcessingEvents } from '../processingEvents.js';
import { readStatus } from '../../store/webhookStatus.js';
import type { KvWriter } from '../../store/kvWriter.js';
import { unlessMissing } from '../../bus/missing.js';
import { parseAdvisory, reasonOf, type WebhookAdvisory } from './advisory.js';
import { sourceOfSubject, writeDeadLetter } from './deadLetterWriter.js';
import type { StepJournal } from '../../store/stepJournal.js';
import { ADVISORIES_STREAM, DEAD_LETTERS_STREAM, MOVER_CONSUMER, WEBHOOKS_STREAM, WebhookHeaders, deadLetterSubject } from '../../bus/names.js';

/** What the mover needs. */
export interface MoverOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  statusKv: KV;
  kv: KvWriter;
  events: ProcessingEvents;
  log: Log;
  /** Where the finished steps the dead letter names are read. */
  steps?: StepJournal;
}

/**
 * Works through `ADVISORIES` with the durable `dead-letter-mover` consumer:
 * for each MAX_DELIVERIES or MSG_TERMINATED advisory about `WEBHOOKS` it
 * copies the original to `DEAD_LETTERS` (once: the copy's id derives from
 * the original sequence), removes the original from `WEBHOOKS`, and records
 * the webhook as dead. Advisories that fired while the service was down wait
 * in the stream.
 */
export class DeadLetterMover {
  private running = false;
  private loop: Promise<void> | undefined;
  private current: ConsumerMessages | undefined;

  constructor(private readonly o: MoverOptions) {}

  /** Starts working through the advisories. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    let consumer: Consumer | undefined;
    while (this.running) {
      try {
        consumer ??= await this.o.js.consumers.get(ADVISORIES_STREAM, MOVER_CONSUMER);
        const batch = await consumer.fetch({ max_messages: 50, expires: 2000 });
        this.current = batch;
        for await (const msg of batch) await this.handle(msg);
      } catch (e) {
        if (!this.running) break;
        consumer = undefined;
        this.o.log.warn({ err: e }, 'dead-letter mover: pull failed; retrying');
        await new Promise((r) => setTimeout(r, 1000));
      } finally {
        this.current = undefined;
      }
    }
  }

  private async handle(msg: JsMsg): Promise<void> {
    const parsed = parseAdvisory(msg.data);
    if (!parsed.ok) {
      this.o.log.error({ code: 'DLQ_ADVISORY_INVALID', reason: parsed.reason, seq: msg.seq }, 'unusable advisory dropped');
      msg.term();
      return;
    }
    const a = parsed.advisory;
    if (a.stream !== WEBHOOKS_STREAM) return msg.ack();
    try {
      await this.move(a);
      msg.ack();
    } catch (e) {
      this.o.log.warn({ err: e, seq: a.stream_seq }, 'dead-letter move failed; retrying');
      msg.nak(1000);
    }
  }

  /** Copies the original of `a` to DEAD_LETTERS (if not there yet) and removes it from WEBHOOKS. */
  async move(a: WebhookAdvisory): Promise<void> {
    const { js, jsm, log } = this.o;
    const source = a.consumer;
    const subject = deadLetterSubject(source, a.stream_seq);
    const existing = await unlessMissing(jsm.streams.getMessage(DEAD_LETTERS_STREAM, { last_by_subj: subject }));
    const original = await unlessMissing(jsm.streams.getMessage(WEBHOOKS_STREAM, { seq: a.stream_seq }));
    if (!existing) {
      if (!original) {
        log.error({ code: 'DLQ_ORIGINAL_MISSING', seq: a.stream_seq, consumer: a.consumer }, 'advisory for a message that is gone and was never dead-lettered');
        return;
      }
      const id = original.header?.get(WebhookHeaders.Id) || `seq-${a.stream_seq}`;
      const status = await readStatus(this.o.statusKv, sourceOfSubject(original.subject), id).catch(() => undefined);
      const lastError = status?.lastError ? `${status.lastError.code}: ${status.lastError.message}` : 'unknown (no failure recorded)';
      const reason = reasonOf(a);
      const stepsDone = await this.o.steps?.finished(sourceOfSubject(original.subject), id, a.stream_seq).catch(() => undefined);
      await writeDeadLetter(
        js,
        { subject: original.subject, seq: a.stream_seq, data: original.data, headers: original.header },
        { reason, deliveries: a.deliveries, lastError, failedAt: new Date(), stepsDone },
      );
      await this.o.kv.putStatusOver({
        id,
        source: sourceOfSubject(original.subject),
        status: 'dead',
        seq: a.stream_seq,
        deliveries: a.deliveries,
        ...(status?.lastError ? { lastError: status.lastError } : {}),
        deadLetter: { stream: DEAD_LETTERS_STREAM, subject },
        updatedAt: new Date().toISOString(),
      });
      this.o.events.emit({
        type: 'webhook.deadLettered',
        source: sourceOfSubject(original.subject),
        id,
        seq: a.stream_seq,
        deliveries: a.deliveries,
        code: status?.lastError?.code ?? 'UNKNOWN',
        durationMs: 0,
        reason,
        at: Date.now(),
      });
    }
    // Interest retention keeps an unacknowledged message forever: it lives on in DEAD_LETTERS now.
    if (original) await jsm.streams.deleteMessage(WEBHOOKS_STREAM, a.stream_seq, false).catch(() => undefined);
  }

  /** Stops after the advisory in hand. */
  async stop(): Promise<void> {
    this.running = false;
    this.current?.stop();
    await this.loop;
  }
}
