/**
 * Ownership of one dependency across the cluster, as a lease in KV bucket
 * `dependency-owners` (issue 10): taken with create-if-absent, renewed and
 * taken over by compare-and-set on the key's revision, so at most one
 * instance dispatches calls to a dependency at any moment.
 *
 * Timing rules, all measured on the local monotonic clock (never on another
 * machine's wall clock):
 * - the holder renews every `leaseMs / 3`; it counts as owner only until
 *   `leaseMs * ownFraction` after it *sent* its last successful renewal, and
 *   then declares the lease lost (aborting calls in flight), renewal or not;
 * - a contender takes over only when it has seen the same revision, unchanged,
 *   for longer than the longer of its own `leaseMs` and the holder's (the
 *   stored value says it), so instances with different `DEP_OWNER_LEASE_MS`
 *   (a rolling deploy that changes it) never own at once;
 * - the holder also stops counting itself owner when its wall clock and its
 *   monotonic clock disagree by more than `maxClockSkewMs` since its last
 *   renewal: a suspended VM stops the monotonic clock while the others' run on.
 * A renewal is written after it was sent and seen after it was written, so a
 * contender's takeover comes at least `leaseMs * (1 - ownFraction)` after the
 * old holder stopped, even with clocks that run at different rates.
 */

/** One entry as the store returns it (a subset of nats.js `KvEntry`). */
export interface LeaseEntry {
  readonly revision: number;
  /** `PUT`, or `DEL`/`PURGE` for a released lease. */
  readonly operation: string;
  json<T>(): T;
}

/** The KV operations a lease needs; a nats.js `KV` satisfies it. */
export interface LeaseStore {
  get(key: string): Promise<LeaseEntry | null>;
  /** Writes only if the key has no value (or was deleted); resolves to the new revision. */
  create(key: string, value: string): Promise<number>;
  /** Writes only if the key's revision is still `revision`; resolves to the new revision. */
  update(key: string, value: string, revision: number): Promise<number>;
  delete(key: string, options?: { previousSeq?: number }): Promise<void>;
}

/** The value of a lease: who holds it, since when (wall clock, for people only). */
export interface LeaseValue {
  instance: string;
  /** When this instance took the lease (ISO 8601). */
  since: string;
  /** When it was last renewed (ISO 8601). */
  renewedAt: string;
  /** Lease length in ms. */
  leaseMs: number;
  /** `renewedAt + leaseMs`; informative only: contenders time expiry on their own clock. */
  expiresAt: string;
}

/** Options of {@link DependencyLease}. */
export interface DependencyLeaseOptions {
  /** Key in the bucket: the dependency's name. */
  key: string;
  /** This instance (`INSTANCE_ID`). */
  instance: string;
  store: LeaseStore;
  /** `DEP_OWNER_LEASE_MS` @default 10000 */
  leaseMs?: number;
  /**
   * Part of the lease after the last renewal during which the holder still
   * counts itself owner.
   * @default 0.5
   */
  ownFraction?: number;
  /**
   * How often a non-owner looks at the lease.
   * @default leaseMs / 10
   */
  pollMs?: number;
  /** Monotonic clock in ms for every local deadline. @default performance.now */
  now?: () => number;
  /** Wall clock in ms, only for the human-readable value. @default Date.now */
  wallNow?: () => number;
  /**
   * Largest disagreement between the wall clock and the monotonic clock,
   * since the last renewal, that the holder tolerates (NTP slews far less).
   * @default min(1000, leaseMs × ownFraction / 2)
   */
  maxClockSkewMs?: number;
  /** Warns once when the holder's stored lease length differs from this instance's. */
  onLeaseMismatch?: (holder: { instance: string; leaseMs: number }) => void;
  /** Called when this instance becomes owner, with the term's fencing token. */
  onAcquired?: (token: number) => void;
  /** Called when ownership ends without {@link DependencyLease.release}: renewal overdue or fenced off. */
  onLost?: (reason: string) => void;
}

/** The longest `DEP_OWNER_LEASE_MS` there is: what a contender waits out when the stored value does not say its holder's length. */
const MAX_LEASE_MS = 600_000;

/** The holder and its lease length, from a stored value; undefined when the value does not say (corrupt, forged). */
function holderOf(entry: LeaseEntry): { instance: string; leaseMs: number } | undefined {
  try {
    const v = entry.json<Partial<LeaseValue>>();
    const { instance, leaseMs } = v;
    if (typeof instance !== 'string' || typeof leaseMs !== 'number' || !Number.isFinite(leaseMs) || leaseMs <= 0) return undefined;
    return { instance, leaseMs: Math.min(leaseMs, MAX_LEASE_MS) };
  } catch {
    return undefined;
  }
}

// JetStream's "wrong last sequence": someone else wrote the key first.
const WRONG_LAST_SEQUENCE = 10071;

/** Whether a create or update failed because the key's revision had moved on. */
export function isRevisionConflict(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown };
  return err?.code === WRONG_LAST_SEQUENCE || (typeof err?.message === 'string' && err.message.includes('wrong last sequence'));
}

/**
 * One instance's claim on one dependency. Call {@link start}; while
 * {@link isOwner} is true this instance may start calls, each with
 * {@link signal}; {@link release} on clean shutdown hands over at once.
 */
export class DependencyLease {
  private readonly key: string;
  private readonly leaseMs: number;
  private readonly ownMs: number;
  private readonly pollMs: number;
  private readonly maxClockSkewMs: number;
  private mismatchWarned = false;
  private readonly now: () => number;
  private readonly wallNow: () => number;
  private running = false;
  private tickTimer: ReturnType<typeof setTimeout> | undefined;
  private lossTimer: ReturnType<typeof setTimeout> | undefined;
  /** While owner: the term's first revision, the latest one, and when the latest renewal was sent (monotonic and wall clock). */
  private held: { token: number; revision: number; since: string; renewedAt: number; renewedWall: number; controller: AbortController } | undefined;
  /** Last revision seen as a contender, and since when (local clock). */
  private seen: { revision: number; at: number } | undefined;
  /** Our own last revision after losing, which we may take back by CAS. */
  private lastOwn: number | undefined;
  private readonly idle: AbortSignal;

  constructor(private readonly options: DependencyLeaseOptions) {
    this.key = options.key;
    this.leaseMs = options.leaseMs ?? 10_000;
    const ownFraction = options.ownFraction ?? 0.5;
    if (!(ownFraction > 0 && ownFraction < 1)) throw new RangeError(`ownFraction must be between 0 and 1, got ${ownFraction}`);
    if (!(this.leaseMs > 0)) throw new RangeError(`leaseMs must be positive, got ${this.leaseMs}`);
    this.ownMs = this.leaseMs * ownFraction;
    this.pollMs = options.pollMs ?? this.leaseMs / 10;
    this.maxClockSkewMs = options.maxClockSkewMs ?? Math.min(1000, this.ownMs / 2);
    this.now = options.now ?? (() => performance.now());
    this.wallNow = options.wallNow ?? (() => Date.now());
    const c = new AbortController();
    c.abort(new Error('not the owner'));
    this.idle = c.signal;
  }

  /**
   * Whether this instance may start calls now: its last renewal is recent
   * on the monotonic clock, and the wall clock agrees about how much time
   * has passed since (it ran on while a suspended machine's monotonic clock
   * stood still). Read it immediately before each call's I/O.
   */
  get isOwner(): boolean {
    const held = this.held;
    return held !== undefined && this.now() < held.renewedAt + this.ownMs && this.clocksAgree(held);
  }

  private clocksAgree(held: { renewedAt: number; renewedWall: number }): boolean {
    return Math.abs(this.wallNow() - held.renewedWall - (this.now() - held.renewedAt)) <= this.maxClockSkewMs;
  }

  /**
   * The fencing token of the current term: the revision at which this
   * instance took the lease; undefined when not owner. A later owner's token
   * is always higher, so writes can be refused from a stale owner.
   */
  get token(): number | undefined {
    return this.isOwner ? this.held!.token : undefined;
  }

  /** The lease's current revision while owner (changes with every renewal). */
  get revision(): number | undefined {
    return this.isOwner ? this.held!.revision : undefined;
  }

  /** Aborted when the current term ends; an already aborted signal when not owner. */
  get signal(): AbortSignal {
    return this.isOwner ? this.held!.controller.signal : this.idle;
  }

  /** Starts trying to take and keep the lease. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /**
   * Stops renewing and contending without touching the store (the lease then
   * expires on its own); ends the current term.
   */
  stop(): void {
    this.running = false;
    clearTimeout(this.tickTimer);
    this.end('stopped', false, undefined);
  }

  /**
   * Stops and deletes the lease if this instance still holds it, so another
   * instance can take over at once. Failures are ignored: the lease expires.
   */
  async release(): Promise<void> {
    const held = this.held;
    this.stop();
    if (!held) return;
    try {
      await this.options.store.delete(this.key, { previousSeq: held.revision });
    } catch {
      // Already taken over, or unreachable: either way it is no longer ours.
    }
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    clearTimeout(this.tickTimer);
    this.tickTimer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    const held = this.held;
    if (held && !this.clocksAgree(held)) this.end('the wall clock and the monotonic clock disagree (was this machine suspended?)', true, undefined);
    try {
      if (this.held) await this.renew();
      else await this.contend();
    } catch {
      // Store unreachable: keep trying; an owner's loss timer ends its term.
    }
    this.schedule(this.held ? this.leaseMs / 3 : this.pollMs);
  }

  private value(since: string): string {
    const wall = this.wallNow();
    const v: LeaseValue = {
      instance: this.options.instance,
      since,
      renewedAt: new Date(wall).toISOString(),
      leaseMs: this.leaseMs,
      expiresAt: new Date(wall + this.leaseMs).toISOString(),
    };
    return JSON.stringify(v);
  }

  private async renew(): Promise<void> {
    const held = this.held!;
    const sentAt = this.now();
    const sentWall = this.wallNow();
    let revision: number;
    try {
      revision = await this.options.store.update(this.key, this.value(held.since), held.revision);
    } catch (e) {
      if (isRevisionConflict(e) && this.held === held) this.end('fenced: another instance holds the lease', true, undefined);
      throw e;
    }
    if (this.held === held && this.now() >= held.renewedAt + this.ownMs) this.end('renewal overdue', true, revision);
    if (this.held !== held) {
      // The renewal came back after the term had run out here. It stands in
      // the store, so the next look may take it back as a new term; this one stays over.
      if (this.lastOwn === held.revision) this.lastOwn = revision;
      return;
    }
    held.revision = revision;
    held.renewedAt = sentAt;
    held.renewedWall = sentWall;
    this.armLoss();
  }

  private async contend(): Promise<void> {
    const { store } = this.options;
    const entry = await store.get(this.key);
    const since = new Date(this.wallNow()).toISOString();
    const sent = { at: this.now(), wall: this.wallNow() };
    if (!entry || entry.operation !== 'PUT') {
      this.take(await store.create(this.key, this.value(since)), since, sent);
      return;
    }
    if (entry.revision === this.lastOwn) {
      // Still our own last write: nobody took over, so taking it back is safe.
      this.take(await store.update(this.key, this.value(since), entry.revision), since, sent);
      return;
    }
    if (this.seen?.revision !== entry.revision) {
      this.seen = { revision: entry.revision, at: this.now() };
      return;
    }
    if (this.now() - this.seen.at > this.takeoverAfterMs(entry)) {
      this.take(await store.update(this.key, this.value(since), entry.revision), since, sent);
    }
  }

  /**
   * How long a revision must stand unchanged before this contender takes
   * over: a whole lease of the longer of the two lengths, this instance's
   * and the holder's (a holder with a longer lease counts itself owner for
   * longer after its last renewal).
   */
  private takeoverAfterMs(entry: LeaseEntry): number {
    const holder = holderOf(entry);
    if (holder === undefined) return MAX_LEASE_MS;
    if (holder.leaseMs !== this.leaseMs && !this.mismatchWarned) {
      this.mismatchWarned = true;
      this.options.onLeaseMismatch?.(holder);
    }
    return Math.max(this.leaseMs, holder.leaseMs);
  }

  private take(revision: number, since: string, sent: { at: number; wall: number }): void {
    if (!this.running) return;
    this.seen = undefined;
    this.lastOwn = undefined;
    this.held = { token: revision, revision, since, renewedAt: sent.at, renewedWall: sent.wall, controller: new AbortController() };
    this.armLoss();
    this.options.onAcquired?.(revision);
  }

  private armLoss(): void {
    clearTimeout(this.lossTimer);
    const held = this.held!;
    this.lossTimer = setTimeout(() => {
      if (this.held === held) this.end('renewal overdue', true, held.revision);
    }, Math.max(0, held.renewedAt + this.ownMs - this.now()));
  }

  /**
   * Ends the term now if this instance no longer counts as owner (its
   * renewal overdue, or its clocks disagreeing), before the loss timer gets
   * its turn: call it before any effect only the owner may have.
   * @returns whether this instance still owns the lease
   */
  check(): boolean {
    const held = this.held;
    if (!held) return false;
    if (this.isOwner) return true;
    this.end(this.clocksAgree(held) ? 'renewal overdue' : 'the wall clock and the monotonic clock disagree (was this machine suspended?)', true, this.clocksAgree(held) ? held.revision : undefined);
    return false;
  }

  /** Ends the term; `ownRevision` is our write still in the store, which we may take back. */
  private end(reason: string, lost: boolean, ownRevision: number | undefined): void {
    clearTimeout(this.lossTimer);
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    this.lastOwn = ownRevision;
    held.controller.abort(new Error(`lease of ${this.key} ${lost ? 'lost' : 'ended'}: ${reason}`));
    if (lost) this.options.onLost?.(reason);
  }
}
