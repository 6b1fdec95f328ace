import type { JetStreamManager } from '@nats-io/jetstream';
import type { StreamStats } from './stats.js';
import { DEAD_LETTERS_STREAM, WEBHOOKS_STREAM, webhookSubject } from '../bus/names.js';

/** A consumer's backlog. */
export interface ConsumerBacklog {
  numPending: number;
  numAckPending: number;
  /** When the oldest webhook not yet acknowledged was stored (ms since the epoch); null when none waits. */
  oldestWaitingAt: number | null;
}

/** A stream's size limits, as configured (-1: no limit). */
export interface StreamLimits {
  maxBytes: number;
  maxMessages: number;
}

/** What the stream layer looks like now. */
export interface NatsSample {
  consumers: Record<string, ConsumerBacklog | null>;
  webhooks: StreamStats | null;
  deadLetters: StreamStats | null;
  /** The limits of each stream that answered, by stream name. */
  limits: Record<string, StreamLimits>;
}

const EMPTY: NatsSample = { consumers: {}, webhooks: null, deadLetters: null, limits: {} };

async function streamStats(jsm: JetStreamManager, name: string): Promise<{ stats: StreamStats; limits: StreamLimits } | null> {
  try {
    const info = await jsm.streams.info(name);
    return {
      stats: { messages: info.state.messages, bytes: info.state.bytes, firstSeq: info.state.first_seq, lastSeq: info.state.last_seq },
      limits: { maxBytes: info.config.max_bytes, maxMessages: info.config.max_msgs },
    };
  } catch {
    return null;
  }
}

async function backlog(jsm: JetStreamManager, source: string): Promise<ConsumerBacklog | null> {
  try {
    const info = await jsm.consumers.info(WEBHOOKS_STREAM, source);
    const waiting = info.num_pending + info.num_ack_pending;
    return {
      numPending: info.num_pending,
      numAckPending: info.num_ack_pending,
      oldestWaitingAt: waiting > 0 ? await oldestWaitingAt(jsm, source, info.ack_floor.stream_seq) : null,
    };
  } catch {
    return null;
  }
}

/**
 * The store time of the first message of the source's subject after the
 * consumer's ack floor. `WEBHOOKS` has interest retention, so acknowledged
 * messages past the floor (acks out of order) are gone and the first one
 * found is the oldest still waiting. One direct get, only while a backlog exists.
 */
async function oldestWaitingAt(jsm: JetStreamManager, source: string, ackFloor: number): Promise<number | null> {
  // The age is a nicety: failing to read it must not cost the backlog numbers.
  const m = await jsm.direct.getMessage(WEBHOOKS_STREAM, { seq: ackFloor + 1, next_by_subj: webhookSubject(source) }).catch(() => null);
  return m ? m.time.getTime() : null;
}

/**
 * Reads each source consumer's backlog and the sizes and limits of `WEBHOOKS` and
 * `DEAD_LETTERS`. Concurrent callers within `maxAgeMs` share one reading,
 * so a scrape, `/stats` and the live feed together cost one round of
 * requests.
 */
export class NatsSampler {
  private last: { at: number; value: Promise<NatsSample> } | undefined;

  constructor(
    private readonly jsm: () => JetStreamManager | undefined,
    private readonly sources: readonly string[],
    private readonly maxAgeMs = 250,
  ) {}

  /** The current reading; empty fields when NATS is not reachable. */
  sample(): Promise<NatsSample> {
    const now = Date.now();
    if (this.last && now - this.last.at < this.maxAgeMs) return this.last.value;
    const jsm = this.jsm();
    const value = jsm ? this.read(jsm) : Promise.resolve(EMPTY);
    this.last = { at: now, value };
    return value;
  }

  private async read(jsm: JetStreamManager): Promise<NatsSample> {
    const [webhooks, deadLetters, ...backlogs] = await Promise.all([
      streamStats(jsm, WEBHOOKS_STREAM),
      streamStats(jsm, DEAD_LETTERS_STREAM),
      ...this.sources.map((s) => backlog(jsm, s)),
    ]);
    const limits: Record<string, StreamLimits> = {};
    if (webhooks) limits[WEBHOOKS_STREAM] = webhooks.limits;
    if (deadLetters) limits[DEAD_LETTERS_STREAM] = deadLetters.limits;
    return {
      webhooks: webhooks?.stats ?? null,
      deadLetters: deadLetters?.stats ?? null,
      limits,
      consumers: Object.fromEntries(this.sources.map((s, i) => [s, backlogs[i] ?? null])),
    };
  }
}
