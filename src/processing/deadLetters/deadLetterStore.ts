import { JetStreamApiError, type JetStreamClient, type JetStreamManager, type StoredMsg } from '@nats-io/jetstream';
import { ErrorCodes } from '../../errors/codes.js';
import { ServiceError } from '../../errors/serviceError.js';
import type { KvWriter } from '../../store/kvWriter.js';
import { statusRevision } from '../../store/webhookStatus.js';
import { webhookHeaders } from './deadLetterWriter.js';
import { DEAD_LETTERS_STREAM, DlqHeaders, WEBHOOKS_STREAM, WebhookHeaders } from '../../bus/names.js';

/** A dead letter without its body. */
export interface DeadLetterSummary {
  seq: number;
  subject: string;
  source: string;
  id: string | undefined;
  originalSubject: string;
  originalSeq: number;
  reason: string;
  deliveries: number;
  lastError: string;
  failedAt: string;
}

/** A dead letter with its body and every header. */
export interface DeadLetter extends DeadLetterSummary {
  headers: Record<string, string>;
  /** The body parsed as JSON, when it is JSON. */
  body: unknown;
  /** The raw body as text. */
  rawBody: string;
}

/** A page of dead letters. */
export interface DeadLetterPage {
  items: DeadLetterSummary[];
  /** Pass as `after` for the next page; absent on the last page. */
  next?: number;
}

function notFound(seq: number): ServiceError {
  return new ServiceError(ErrorCodes.DEAD_LETTER_NOT_FOUND, `no dead letter with sequence ${seq}`, { status: 404 });
}

function summarize(m: StoredMsg): DeadLetterSummary {
  const h = m.header;
  return {
    seq: m.seq,
    subject: m.subject,
    source: m.subject.split('.')[2] ?? 'unknown',
    id: h?.get(WebhookHeaders.Id) || undefined,
    originalSubject: h?.get(DlqHeaders.OriginalSubject) ?? '',
    originalSeq: Number(h?.get(DlqHeaders.OriginalSeq) ?? 0),
    reason: h?.get(DlqHeaders.Reason) ?? '',
    deliveries: Number(h?.get(DlqHeaders.Deliveries) ?? 0),
    lastError: h?.get(DlqHeaders.LastError) ?? '',
    failedAt: h?.get(DlqHeaders.FailedAt) ?? '',
  };
}

/** Reads, replays and deletes dead letters (the admin routes' back end). */
export class DeadLetterStore {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly kv: KvWriter,
  ) {}

  private async find(query: { seq: number; next_by_subj?: string }): Promise<StoredMsg | undefined> {
    try {
      return (await this.jsm.streams.getMessage(DEAD_LETTERS_STREAM, query)) ?? undefined;
    } catch (e) {
      if (e instanceof JetStreamApiError && e.status === 404) return undefined;
      throw e;
    }
  }

  /** Lists dead letters in sequence order, optionally of one source, `limit` at a time after sequence `after`. */
  async list({ source, limit = 50, after = 0 }: { source?: string; limit?: number; after?: number }): Promise<DeadLetterPage> {
    const filter = source ? `dead.webhooks.${source}.>` : 'dead.webhooks.>';
    const items: DeadLetterSummary[] = [];
    let seq = after + 1;
    while (items.length < limit) {
      const m = await this.find({ seq, next_by_subj: filter });
      if (!m) return { items };
      items.push(summarize(m));
      seq = m.seq + 1;
    }
    const more = await this.find({ seq, next_by_subj: filter });
    return more ? { items, next: items[items.length - 1]!.seq } : { items };
  }

  /**
   * One dead letter with its body.
   * @throws ServiceError DEAD_LETTER_NOT_FOUND
   */
  async get(seq: number): Promise<DeadLetter> {
    const m = await this.find({ seq });
    if (!m) throw notFound(seq);
    const headers: Record<string, string> = {};
    for (const [k, v] of m.header ?? []) headers[k] = v.join(', ');
    const rawBody = m.string();
    let body: unknown;
    try {
      body = JSON.parse(rawBody);
    } catch {
      // Not JSON: the raw body says it all.
    }
    return { ...summarize(m), headers, body, rawBody };
  }

  /**
   * Publishes the dead letter again to its original subject (a new webhook
   * sequence, same delivery id), records it as queued, then removes it from
   * `DEAD_LETTERS`. Replaying the same dead letter twice publishes once.
   * With `resume`, the replayed webhook keeps the steps its original had
   * finished (`webhook-steps`); without, it starts clean.
   * @throws ServiceError DEAD_LETTER_NOT_FOUND
   */
  async replay(seq: number, { resume = false }: { resume?: boolean } = {}): Promise<{ seq: number; replayedAs: number; subject: string }> {
    const m = await this.find({ seq });
    if (!m) throw notFound(seq);
    const original = m.header?.get(DlqHeaders.OriginalSubject);
    if (!original) throw new ServiceError(ErrorCodes.INTERNAL_ERROR, `dead letter ${seq} has no ${DlqHeaders.OriginalSubject}`);
    const h = webhookHeaders(m.header);
    h.set('Webhook-Replay-Of', String(seq));
    const originalSeq = m.header?.get(DlqHeaders.OriginalSeq);
    if (resume && originalSeq) h.set(WebhookHeaders.ResumeStepsOf, originalSeq);
    else h.delete(WebhookHeaders.ResumeStepsOf);
    const id = m.header?.get(WebhookHeaders.Id);
    const source = original.split('.')[1] ?? 'unknown';
    // Read before publishing: processing may record the replayed webhook before `queued` lands.
    const revision = id ? await statusRevision(this.jsm, source, id) : 0;
    const ack = await this.js.publish(original, m.data, { msgID: `replay-${seq}`, headers: h, expect: { streamName: WEBHOOKS_STREAM } });
    if (id) await this.kv.putStatusAt({ id, source, status: 'queued', seq: ack.seq, deliveries: 0, updatedAt: new Date().toISOString() }, revision);
    await this.delete(seq).catch(() => undefined);
    return { seq, replayedAs: ack.seq, subject: original };
  }

  /** Replays every dead letter (of one source, if given). */
  async replayAll(source?: string, options: { resume?: boolean } = {}): Promise<{ replayed: number; failed: { seq: number; error: string }[] }> {
    let replayed = 0;
    const failed: { seq: number; error: string }[] = [];
    let after = 0;
    for (;;) {
      const page = await this.list({ source, limit: 100, after });
      for (const item of page.items) {
        try {
          await this.replay(item.seq, options);
          replayed++;
        } catch (e) {
          failed.push({ seq: item.seq, error: (e as Error).message });
        }
      }
      if (page.next === undefined) return { replayed, failed };
      after = page.next;
    }
  }

  /**
   * Removes a dead letter.
   * @throws ServiceError DEAD_LETTER_NOT_FOUND
   */
  async delete(seq: number): Promise<void> {
    try {
      await this.jsm.streams.deleteMessage(DEAD_LETTERS_STREAM, seq, false);
    } catch (e) {
      if (e instanceof JetStreamApiError && (e.status === 404 || e.status === 400)) throw notFound(seq);
      throw e;
    }
  }
}
