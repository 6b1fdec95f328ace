/** Where a webhook is in its life. */
export type WebhookState = 'queued' | 'processing' | 'retrying' | 'done' | 'dead';

/** The fields of a status that order it. */
export interface StatusPosition {
  status: WebhookState;
  /** Stream sequence in `WEBHOOKS`. */
  seq: number;
  /** Deliveries so far. */
  deliveries: number;
}

/** Where each state stands within one delivery: a write never moves a webhook down this ladder. */
const RANK: Readonly<Record<WebhookState, number>> = { queued: 0, processing: 1, retrying: 2, done: 3, dead: 3 };

/** `done` and `dead` end a webhook's life; only a new stream sequence (a replay) starts another. */
export function isFinal(state: WebhookState): boolean {
  return state === 'done' || state === 'dead';
}

/**
 * Whether `next` may replace `prev` as a webhook's status, so statuses never
 * go backwards:
 * - a later stream sequence (a replayed dead letter) always wins, an earlier one never;
 * - nothing follows `done` (a finished webhook stays finished, whatever a
 *   late or second delivery of it reports), and only `done` follows `dead`
 *   (a delivery that was still running when another one was dead-lettered
 *   did finish it);
 * - otherwise a later delivery wins, and within one delivery the state must not
 *   rank lower (`queued` < `processing` < `retrying` < `done`/`dead`).
 */
export function supersedes(next: StatusPosition, prev: StatusPosition): boolean {
  if (next.seq !== prev.seq) return next.seq > prev.seq;
  if (prev.status === 'done') return false;
  if (prev.status === 'dead') return next.status === 'done';
  if (next.deliveries !== prev.deliveries) return next.deliveries > prev.deliveries;
  return RANK[next.status] >= RANK[prev.status];
}

interface KeyTail<T> {
  /** The newest status issued for the key. */
  last: T;
  /** Settles when that write has. */
  tail: Promise<void>;
}

/**
 * Puts the statuses of one process in order: writes to one key leave one at
 * a time, in the order they were asked for, and a write that
 * {@link supersedes} does not allow after the newest one issued is dropped.
 * Without it, the message processor's 250 ms "slow" timer could write
 * `processing` while `done` was still in flight and land after it.
 */
export class StatusSequencer<T extends StatusPosition> {
  private readonly keys = new Map<string, KeyTail<T>>();

  /** @param write the actual KV write of one status */
  constructor(private readonly write: (key: string, s: T) => Promise<void>) {}

  /** Keys with a write in flight. */
  get inFlight(): number {
    return this.keys.size;
  }

  /**
   * Writes `s` under `key` after the writes already issued for it, or not at
   * all when a newer status was issued; resolves once written or dropped.
   * @throws the write's error (a dropped write never throws)
   */
  put(key: string, s: T): Promise<void> {
    const prev = this.keys.get(key);
    if (prev && !supersedes(s, prev.last)) return Promise.resolve();
    const entry: KeyTail<T> = { last: s, tail: Promise.resolve() };
    entry.tail = (prev?.tail ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.write(key, s))
      .finally(() => {
        if (this.keys.get(key) === entry) this.keys.delete(key);
      });
    this.keys.set(key, entry);
    return entry.tail;
  }
}
