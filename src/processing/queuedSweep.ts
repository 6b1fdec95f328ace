import { JetStreamApiCodes, JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import { millis } from '@nats-io/transport-node';
import type { KV } from '@nats-io/kv';
import type { Log } from '../log.js';
import { Rounds } from './rounds.js';
import { unlessMissing } from '../bus/missing.js';
import { queuedStatus, statusKey } from '../store/webhookStatus.js';
import { WEBHOOKS_STREAM, webhookSubject } from '../bus/names.js';

/** What the sweep needs. */
export interface QueuedSweepOptions {
  jsm: JetStreamManager;
  statusKv: KV;
  /** Sources with a consumer on `WEBHOOKS`. */
  sources: readonly string[];
  log: Log;
  /**
   * Messages looked at per source and round, so one round stays short.
   * @default 10000
   */
  maxPerRound?: number;
  /** The clock. */
  now?: () => number;
}

/** One source's round. */
export interface SweepResult {
  source: string;
  /** Waiting webhooks old enough to be looked at. */
  looked: number;
  /** `queued` statuses written (the others had a status already). */
  recorded: number;
}

/** One round: the stream's duplicate window it used, and each source's result. */
export interface SweepRound {
  duplicateWindowMs: number;
  results: SweepResult[];
}

/** Rounds run every tenth of the duplicate window, at least every 250 ms and at most every minute. */
export function sweepIntervalMs(duplicateWindowMs: number): number {
  return Math.min(60_000, Math.max(250, Math.floor(duplicateWindowMs / 10)));
}

const enc = new TextEncoder();

/**
 * Records `queued` for webhooks that still wait in `WEBHOOKS` when the
 * stream's duplicate window is about to forget their delivery id.
 *
 * The edge records no status at ingest: until processing writes one, the
 * status route finds a webhook by its id in the stream's duplicate index.
 * That index forgets an id `DUPLICATE_WINDOW` after it was stored, so every
 * round (see {@link sweepIntervalMs}) looks at each source's waiting webhooks
 * stored more than the window less two rounds ago, and writes `queued` for
 * those without a status, as a create (never over a status processing
 * wrote). Each message is looked at once per process: a cursor per source
 * starts past the consumer's ack floor and moves on. With no backlog a round
 * is one stream info, one consumer info and one message read per source.
 */
export class QueuedSweep {
  private readonly cursors = new Map<string, number>();
  private readonly rounds: Rounds<SweepRound>;

  constructor(private readonly o: QueuedSweepOptions) {
    this.rounds = new Rounds(() => this.sweep(), (r) => sweepIntervalMs(r.duplicateWindowMs), 60_000, o.log, 'queued sweep failed; trying again next round');
  }

  /** Runs a round now and then every interval the stream's duplicate window sets. */
  start(): void {
    this.rounds.start();
  }

  /**
   * One round over every source.
   * @throws JetStreamApiError when the stream, a consumer or the status bucket cannot be read
   */
  async sweep(): Promise<SweepRound> {
    const info = await this.o.jsm.streams.info(WEBHOOKS_STREAM);
    const duplicateWindowMs = Math.max(1, millis(info.config.duplicate_window ?? 0));
    const cutoff = (this.o.now ?? Date.now)() - duplicateWindowMs + 2 * sweepIntervalMs(duplicateWindowMs);
    const results: SweepResult[] = [];
    for (const source of this.o.sources) results.push(await this.sweepSource(source, cutoff));
    return { duplicateWindowMs, results };
  }

  private async sweepSource(source: string, cutoff: number): Promise<SweepResult> {
    const { jsm } = this.o;
    const result: SweepResult = { source, looked: 0, recorded: 0 };
    const floor = (await unlessMissing(jsm.consumers.info(WEBHOOKS_STREAM, source)))?.ack_floor.stream_seq ?? 0;
    let seq = Math.max(this.cursors.get(source) ?? 1, floor + 1);
    for (; result.looked < (this.o.maxPerRound ?? 10_000); result.looked++) {
      // The first message of the source's subject at or after `seq` (STREAM.MSG.GET's next_by_subj).
      const next: { seq: number; next_by_subj: string } = { seq, next_by_subj: webhookSubject(source) };
      const m = await unlessMissing(jsm.streams.getMessage(WEBHOOKS_STREAM, next));
      if (!m || m.time.getTime() > cutoff) break;
      const queued = queuedStatus(source, m);
      if (await this.create(statusKey(source, queued.id), enc.encode(JSON.stringify(queued)))) result.recorded++;
      seq = m.seq + 1;
      this.cursors.set(source, seq);
    }
    if (result.recorded > 0) this.o.log.info({ source, recorded: result.recorded }, 'recorded queued for webhooks waiting past the duplicate window');
    return result;
  }

  /** Creates the entry; false when it has a status already (processing recorded one first). */
  private async create(key: string, value: Uint8Array): Promise<boolean> {
    try {
      await this.o.statusKv.create(key, value);
      return true;
    } catch (e) {
      if (e instanceof JetStreamApiError && e.code === JetStreamApiCodes.StreamWrongLastSequence) return false;
      throw e;
    }
  }

  /** Stops the rounds, waiting for the one under way. */
  stop(): Promise<void> {
    return this.rounds.stop();
  }
}
