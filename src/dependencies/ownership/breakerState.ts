import type { KV } from '@nats-io/kv';
import type { Log } from '../../log.js';
import type { BreakerRecord, ReceivedRecord } from '../runtime/breaker.js';
import { isRevisionConflict } from './lease.js';

/** A value of KV bucket `dependency-state` (key = dependency name). */
export interface StoredBreaker {
  /** The owner that wrote it (`INSTANCE_ID`) and its lease term's fencing token. */
  instance: string;
  token: number;
  /** Epoch ms it was written (for people; no reader compares it with its own clock). */
  writtenAt: number;
  breaker: BreakerRecord;
}

/** The stored breaker of `name` and its revision; undefined when none. */
export async function readBreaker(kv: KV, name: string): Promise<{ stored: StoredBreaker; revision: number } | undefined> {
  const entry = await kv.get(name);
  if (!entry || entry.operation !== 'PUT') return undefined;
  return { stored: entry.json<StoredBreaker>(), revision: entry.revision };
}

/**
 * What makes two records the same breaker: the record with its durations
 * turned into end times at `at`, so a shorter time left alone is no change.
 */
export function recordKey(record: BreakerRecord, at: number): string {
  const { pausedForMs, ...rest } = record;
  return JSON.stringify({
    ...rest,
    ...(rest.state === 'open' ? { probeInMs: undefined, probeAt: at + rest.probeInMs } : {}),
    ...(pausedForMs === undefined ? {} : { pausedUntil: at + pausedForMs }),
  });
}

/** Options of {@link BreakerWriter}. */
export interface BreakerWriterOptions {
  kv: KV;
  name: string;
  /** This owner and its term's fencing token (the revision at which it took the lease). */
  owner: { instance: string; token: number };
  /** The record's revision read at takeover, if any. */
  revision: number | undefined;
  log: Log;
  /**
   * First pause after a failed write (timeout, no quorum); doubles up to 16 times that.
   * @default 250
   */
  retryMs?: number;
}

/**
 * Writes one owner's breaker records to `dependency-state`, newest first:
 * only the latest record waits to be written, and a write that fails for any
 * reason but fencing is tried again (a record left stale would pause, or
 * fail, every other instance's consumers). Writes are fenced on the lease
 * token, not on the record's own revision: each is a compare-and-set on the
 * revision last seen, and on a conflict the writer reads the stored record
 * again: a newer owner's (higher token) ends this writer for good, an older
 * owner's late write is simply written over.
 */
export class BreakerWriter {
  private latest: { record: BreakerRecord; key: string } | undefined;
  private lastWritten = '';
  private revision: number | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly o: BreakerWriterOptions) {
    this.revision = o.revision;
  }

  /**
   * Queues `record` (replacing one not written yet) unless it equals the
   * last one written; `key` is how records compare (absolute times, so a
   * shrinking remaining time alone is not a change).
   */
  write(record: BreakerRecord | undefined, key: string = JSON.stringify(record)): void {
    if (!record || this.stopped || key === this.lastWritten) return;
    this.latest = { record, key };
    this.running ??= this.drain().finally(() => (this.running = undefined));
  }

  /** Resolves once every record queued so far is written (or this writer was fenced off or stopped). */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stops writing at once (a queued record is dropped); resolves once a write under way has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async drain(): Promise<void> {
    const { kv, name, owner, log } = this.o;
    let failures = 0;
    while (this.latest && !this.stopped) {
      const { record, key } = this.latest;
      const value = JSON.stringify({ ...owner, writtenAt: Date.now(), breaker: record } satisfies StoredBreaker);
      try {
        this.revision = this.revision === undefined ? await kv.create(name, value) : await kv.update(name, value, this.revision);
        this.lastWritten = key;
        if (this.latest.record === record) this.latest = undefined;
        failures = 0;
      } catch (err) {
        const conflict = isRevisionConflict(err);
        const next = conflict ? await this.reread() : 'failed';
        if (next === 'fenced') return;
        if (next === 'failed') {
          failures++;
          log.warn({ err, dependency: name, failures }, 'breaker state not written; retrying');
          await new Promise((r) => setTimeout(r, (this.o.retryMs ?? 250) * 2 ** Math.min(failures - 1, 4)));
        }
      }
    }
  }

  /**
   * After a conflict, reads the stored record: `fenced` when a newer owner
   * wrote it (this writer is then over), `retry` with its revision to write
   * on next, `failed` when it could not be read.
   */
  private async reread(): Promise<'fenced' | 'retry' | 'failed'> {
    const { kv, name, owner, log } = this.o;
    let entry;
    try {
      entry = await kv.get(name);
    } catch {
      return 'failed';
    }
    const stored = entry?.operation === 'PUT' ? parseJson(() => entry.json<Partial<StoredBreaker>>()) : undefined;
    if (typeof stored?.token === 'number' && stored.token > owner.token) {
      this.stopped = true;
      log.warn({ dependency: name, token: owner.token, newer: stored.token, by: stored.instance }, 'breaker state not written: a newer owner has written');
      return 'fenced';
    }
    this.revision = entry?.revision;
    return 'retry';
  }
}

/** The value `read` decodes; undefined when it is not JSON. */
function parseJson<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** Whether a decoded value is a {@link StoredBreaker} this service can read. */
function isStoredBreaker(v: unknown): v is StoredBreaker {
  const s = v as Partial<StoredBreaker> | null;
  const b = s?.breaker as Partial<Record<string, unknown>> | undefined;
  return (
    typeof s?.token === 'number' &&
    typeof s.instance === 'string' &&
    typeof b === 'object' &&
    b !== null &&
    (b.state === 'closed' || b.state === 'open' || b.state === 'halfOpen') &&
    (b.state !== 'open' || (typeof b.probeInMs === 'number' && Number.isFinite(b.probeInMs)))
  );
}

/**
 * Keeps the latest breaker of every dependency from `dependency-state` in a
 * map (kv.watch), with when it arrived here, for the consumers' gate and the
 * status of dependencies owned elsewhere. A record from an older term than
 * one already seen (a deposed owner's late write) is ignored.
 * @returns the map and a function that stops watching
 */
export async function watchBreakers(kv: KV, log: Log): Promise<{ records: Map<string, ReceivedRecord>; stop(): void }> {
  const records = new Map<string, ReceivedRecord & { token: number }>();
  const watch = await kv.watch();
  void (async () => {
    try {
      for await (const e of watch) {
        if (e.operation !== 'PUT') {
          records.delete(e.key);
          continue;
        }
        const stored = parseJson(() => e.json());
        if (!isStoredBreaker(stored)) {
          log.warn({ dependency: e.key }, 'ignored a dependency-state record that is not one');
          continue;
        }
        if (stored.token < (records.get(e.key)?.token ?? 0)) continue;
        records.set(e.key, { record: stored.breaker, receivedAt: Date.now(), token: stored.token });
      }
    } catch (err) {
      log.warn({ err }, 'watching dependency-state stopped');
    }
  })();
  return { records, stop: () => watch.stop() };
}
