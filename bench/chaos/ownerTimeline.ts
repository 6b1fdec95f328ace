import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

/** One write to a dependency's lease in `dependency-owners`. */
export interface LeaseWrite {
  /** When the server stored it (epoch ms; the same clock as the stub's on one machine). */
  readonly at: number;
  /** The holder it names; undefined for a release (delete). */
  readonly instance: string | undefined;
  readonly revision: number;
}

/**
 * Every write to one dependency's lease from the moment of {@link watch}
 * on (the current value first): who held it when, by the server's own
 * timestamps, so a call at the stub can be matched to the term it fell in.
 */
export class OwnerTimeline {
  readonly writes: LeaseWrite[] = [];
  private stopWatch: () => void = () => undefined;

  private constructor() {}

  /**
   * Watches `dependency`'s key in `dependency-owners`; resolves once its current value has arrived.
   * @throws Error when the key holds no lease, or its value does not arrive within 10 s.
   */
  static async watch(nc: NatsConnection, dependency: string): Promise<OwnerTimeline> {
    const timeline = new OwnerTimeline();
    const kv = await new Kvm(nc).open('dependency-owners');
    if ((await kv.get(dependency))?.operation !== 'PUT') throw new Error(`dependency-owners holds no lease of ${dependency}`);
    let current!: () => void;
    const caughtUp = new Promise<void>((resolve) => (current = resolve));
    const watch = await kv.watch({ key: dependency });
    timeline.stopWatch = () => watch.stop();
    void (async () => {
      for await (const e of watch) {
        const instance = e.operation === 'PUT' ? e.json<{ instance?: unknown }>().instance : undefined;
        timeline.writes.push({ at: e.created.getTime(), instance: typeof instance === 'string' ? instance : undefined, revision: e.revision });
        current();
      }
    })();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the lease of ${dependency} did not arrive within 10 s`)), 10_000)));
    try {
      await Promise.race([caughtUp, late]);
    } catch (e) {
      watch.stop();
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return timeline;
  }

  /** Stops watching. */
  stop(): void {
    this.stopWatch();
  }
}

/** The holder named by the last of `writes` (oldest first) at or before `at`; undefined before the first or after a release. */
export function holderAt(writes: readonly LeaseWrite[], at: number): string | undefined {
  let holder: string | undefined;
  for (const w of writes) {
    if (w.at > at) break;
    holder = w.instance;
  }
  return holder;
}

/** The first of `writes` after `after` that names a holder other than `instance`: the takeover. */
export function takeoverAfter(writes: readonly LeaseWrite[], after: number, instance: string): LeaseWrite | undefined {
  return writes.find((w) => w.at > after && w.instance !== undefined && w.instance !== instance);
}
