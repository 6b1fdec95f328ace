import type { JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { Log } from '../log.js';
import { Rounds } from './rounds.js';
import { unlessMissing } from '../bus/missing.js';
import { isFinal } from '../store/statusOrder.js';
import { readStatus } from '../store/webhookStatus.js';
import { WEBHOOKS_STREAM, WebhookHeaders, webhookSubject } from '../bus/names.js';

/** What the reconciler needs. */
export interface ReconcilerOptions {
  jsm: JetStreamManager;
  statusKv: KV;
  /** Sources with a consumer on `WEBHOOKS`. */
  sources: readonly string[];
  /** `RECONCILE_INTERVAL_MS`. */
  intervalMs: number;
  log: Log;
  /**
   * Messages looked at per source and round, so one round stays short.
   * @default 10000
   */
  maxPerRound?: number;
}

/** One source's round. */
export interface ReconcileResult {
  source: string;
  /** The consumer's `ack_floor.stream_seq`. */
  ackFloor: number;
  /** Messages at or below it removed from `WEBHOOKS`. */
  removed: number;
  /** Messages at or below it kept: their dead-letter move is still to come. */
  kept: number;
  /** Sequences of the first and last message removed. */
  removedSeqs?: [number, number];
}

/**
 * Removes from `WEBHOOKS` the messages each source's consumer has already
 * acknowledged, at start and every `RECONCILE_INTERVAL_MS`.
 *
 * Interest retention should remove a message once its one consumer acks it,
 * but nats-server 2.9 killed uncleanly restarts with the acks recorded in the
 * consumer's state (its ack floor is past them) while the stream still holds
 * some of those messages: nothing will ever deliver or remove them, and they
 * count against `WEBHOOKS_MAX_BYTES` (issue 11, item 7). Only messages at or
 * below the ack floor are touched, never an unacknowledged one; one whose
 * status is still not final (a webhook out of deliveries whose
 * `MAX_DELIVERIES` advisory the dead-letter mover has yet to handle) is kept
 * for the mover, which copies it before removing it.
 */
export class AckFloorReconciler {
  private readonly rounds: Rounds<ReconcileResult[]>;

  constructor(private readonly o: ReconcilerOptions) {
    this.rounds = new Rounds(() => this.reconcile(), () => o.intervalMs, o.intervalMs, o.log, 'WEBHOOKS reconciliation failed; trying again next round');
  }

  /** Runs a round now and then every interval. */
  start(): void {
    this.rounds.start();
  }

  /**
   * One round over every source.
   * @throws JetStreamApiError when the stream or a consumer cannot be read
   */
  async reconcile(): Promise<ReconcileResult[]> {
    const results: ReconcileResult[] = [];
    for (const source of this.o.sources) {
      const r = await this.reconcileSource(source);
      results.push(r);
      if (r.removed > 0 || r.kept > 0) this.o.log.warn({ code: 'WEBHOOKS_ACKED_LEFTOVERS', ...r }, 'removed acknowledged webhooks the stream still held');
    }
    return results;
  }

  private async reconcileSource(source: string): Promise<ReconcileResult> {
    const { jsm } = this.o;
    const info = await unlessMissing(jsm.consumers.info(WEBHOOKS_STREAM, source));
    const ackFloor = info?.ack_floor.stream_seq ?? 0;
    const result: ReconcileResult = { source, ackFloor, removed: 0, kept: 0 };
    let seq = 1;
    for (let looked = 0; looked < (this.o.maxPerRound ?? 10_000) && seq <= ackFloor; looked++) {
      // The first message of the source's subject at or after `seq` (STREAM.MSG.GET's next_by_subj).
      const next: { seq: number; next_by_subj: string } = { seq, next_by_subj: webhookSubject(source) };
      const m = await unlessMissing(jsm.streams.getMessage(WEBHOOKS_STREAM, next));
      if (!m || m.seq > ackFloor) break;
      seq = m.seq + 1;
      if (await this.awaitsDeadLetterMove(source, m)) {
        result.kept++;
        continue;
      }
      // Gone already (the mover, another instance) is as good as removed.
      if (await unlessMissing(jsm.streams.deleteMessage(WEBHOOKS_STREAM, m.seq, false))) {
        result.removed++;
        result.removedSeqs = [result.removedSeqs?.[0] ?? m.seq, m.seq];
      }
    }
    return result;
  }

  private async awaitsDeadLetterMove(source: string, m: StoredMsg): Promise<boolean> {
    const id = m.header?.get(WebhookHeaders.Id) || `seq-${m.seq}`;
    const status = await readStatus(this.o.statusKv, source, id);
    return status !== undefined && status.seq === m.seq && !isFinal(status.status);
  }

  /** Stops the rounds, waiting for the one under way. */
  stop(): Promise<void> {
    return this.rounds.stop();
  }
}
