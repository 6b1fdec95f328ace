import type { KV } from '@nats-io/kv';
import type { Log } from '../log.js';
import type { BreakerRecord } from '../runtime/breaker.js';

/** A value of KV bucket `dependency-state` (key = dependency name). */
export interface StoredBreaker {
  /** The owner that wrote it (`INSTANCE_ID`) and its lease term's fencing token. */
  instance: string;
  token: number;
  /** Epoch ms it was written (for people). */
  writtenAt: number;
  breaker: BreakerRecord;
}

/** The stored breaker of `name` and the revision to write the next one on; undefined when none. */
export async function readBreaker(kv: KV, name: string): Promise<{ stored: StoredBreaker; revision: number } | undefined> {
  const entry = await kv.get(name);
  if (!entry || entry.operation !== 'PUT') return undefined;
  return { stored: entry.json<StoredBreaker>(), revision: entry.revision };
}

/**
 * Writes one owner's breaker records to `dependency-state`, in order, each
 * with compare-and-set on the revision it wrote (or read at takeover) last:
 * once a newer owner has written, a deposed owner's writes are refused.
 */
export class BreakerWriter {
  private chain: Promise<void> = Promise.resolve();
  private last = '';
  private stopped = false;

  constructor(
    private readonly kv: KV,
    private readonly name: string,
    private readonly owner: { instance: string; token: number },
    private revision: number | undefined,
    private readonly log: Log,
  ) {}

  /** Queues `record` unless it equals the last one written. */
  write(record: BreakerRecord | undefined): void {
    if (!record || this.stopped) return;
    const json = JSON.stringify(record);
    if (json === this.last) return;
    this.last = json;
    const value = JSON.stringify({ ...this.owner, writtenAt: Date.now(), breaker: record } satisfies StoredBreaker);
    this.chain = this.chain.then(async () => {
      if (this.stopped) return;
      try {
        this.revision = this.revision === undefined ? await this.kv.create(this.name, value) : await this.kv.update(this.name, value, this.revision);
      } catch (err) {
        // A newer owner wrote: this term is over, and its record must not replace the newer one.
        this.stopped = true;
        this.log.warn({ err, dependency: this.name }, 'breaker state not written: another owner has written since');
      }
    });
  }

  /** Resolves once every record queued so far is written (or refused). */
  flush(): Promise<void> {
    return this.chain;
  }

  /** Stops writing at once (queued records are dropped); resolves once a write under way has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.chain;
  }
}

/**
 * Keeps the latest breaker of every dependency from `dependency-state` in a
 * map (kv.watch), for the consumers' gate and status of dependencies owned elsewhere.
 * @returns the map and a function that stops watching
 */
export async function watchBreakers(kv: KV, log: Log): Promise<{ records: Map<string, BreakerRecord>; stop(): void }> {
  const records = new Map<string, BreakerRecord>();
  const watch = await kv.watch();
  void (async () => {
    try {
      for await (const e of watch) {
        if (e.operation === 'PUT') records.set(e.key, e.json<StoredBreaker>().breaker);
        else records.delete(e.key);
      }
    } catch (err) {
      log.warn({ err }, 'watching dependency-state stopped');
    }
  })();
  return { records, stop: () => watch.stop() };
}
