import type { NatsConnection } from '@nats-io/transport-node';
import type { Log } from '../../log.js';
import type { ReceivedRecord } from '../runtime/breaker.js';
import type { DependencyCaller } from '../runtime/caller.js';
import type { CallChecks, DependencyRuntime } from '../runtime/runtime.js';
import type { TopologyBuckets } from '../../bus/topology.js';

/** The buckets through which instances share dependencies. */
type SharedBuckets = Pick<TopologyBuckets, 'dependencyOwners' | 'dependencyState'>;
import { serveActors, type InstanceActors } from './actorsDirectory.js';
import { BreakerWriter, readBreaker, recordKey, watchBreakers } from './breakerState.js';
import { serveCalls } from './callServer.js';
import { DependencyLease, type LeaseValue } from './lease.js';
import { createRoutedCaller } from './routedCaller.js';

/** Options of {@link DependencyOwnership}. */
export interface OwnershipOptions {
  /** Cluster-scoped dependencies: one owner each across the cluster. */
  names: readonly string[];
  /** `INSTANCE_ID`. */
  instance: string;
  /** `DEP_OWNER_LEASE_MS`. */
  leaseMs: number;
  /** How long a forwarded call of each dependency may take, mailbox wait included. */
  deadlineMs(name: string): number;
  log: Log;
}

/** What happens while this instance owns one dependency. */
interface Term {
  readonly lease: DependencyLease;
}

/**
 * One owner per cluster-scoped dependency (issue 10): runs a lease in
 * `dependency-owners` per dependency; while this instance holds it, it runs
 * the dependency's actor (started from the breaker in `dependency-state`),
 * serves other instances' calls on `webhook-relay.dep.<name>.call` and writes
 * every breaker change back. When the lease ends the actor stops (aborting
 * its calls). Handles route each call locally or to the owner
 * ({@link routeCalls}); every instance watches `dependency-state`
 * ({@link remoteBreaker}) so consumers pause while a dependency is open anywhere.
 */
export class DependencyOwnership {
  private nc: NatsConnection | undefined;
  private readonly terms = new Map<string, Term>();
  private remote: Map<string, ReceivedRecord> = new Map();
  private readonly stoppers: (() => void)[] = [];
  /** Every dependency's current owner, from `dependency-owners`. */
  private readonly ownerOf = new Map<string, { instance: string; since: string }>();
  /** Per dependency: aborted when its lease passes to another instance (or is released). */
  private readonly ownerTerms = new Map<string, AbortController>();
  /** Called after every change seen in `dependency-owners`. */
  private readonly ownersChanged = new Set<() => void>();
  /** The local actors' callers, which forwarded calls go to. */
  private readonly locals = new Map<string, { local: DependencyCaller<unknown>; checks: CallChecks }>();

  constructor(private readonly o: OwnershipOptions) {}

  /** Whether this instance owns `name` now (always true for a dependency that is not cluster-scoped). */
  isOwner(name: string): boolean {
    if (!this.o.names.includes(name)) return true;
    return this.terms.get(name)?.lease.isOwner ?? false;
  }

  /** For {@link startDependencies}' `routeCalls`: cluster-scoped handles call the owner, wherever it runs. */
  readonly routeCalls = (name: string, local: DependencyCaller<unknown>, checks: CallChecks): DependencyCaller<unknown> => {
    if (!this.o.names.includes(name)) return local;
    this.locals.set(name, { local, checks });
    return createRoutedCaller(local, {
      parseResult: (request, value) => checks.parseResult(request, value),
      isOwner: () => this.isOwner(name),
      nc: () => this.nc,
      deadlineMs: this.o.deadlineMs(name),
      ownerTerm: () => this.ownerTerm(name).signal,
    });
  };

  /** For {@link startDependencies}' `remoteBreaker`: the owner's last breaker record, and when it arrived here. */
  readonly remoteBreaker = (name: string): ReceivedRecord | undefined => this.remote.get(name);

  /**
   * Starts contending for every lease and watching `dependency-state`.
   * @throws Error when the watch cannot start.
   */
  async start(nc: NatsConnection, buckets: SharedBuckets, runtime: DependencyRuntime<unknown>): Promise<void> {
    this.nc = nc;
    const watched = await watchBreakers(buckets.dependencyState, this.o.log);
    this.remote = watched.records;
    this.stoppers.push(() => watched.stop());
    const owners = await buckets.dependencyOwners.watch();
    this.stoppers.push(() => owners.stop());
    void (async () => {
      for await (const e of owners) {
        const before = this.ownerOf.get(e.key);
        if (e.operation !== 'PUT') this.ownerOf.delete(e.key);
        else {
          const v = e.json<LeaseValue>();
          this.ownerOf.set(e.key, { instance: v.instance, since: v.since });
        }
        const after = this.ownerOf.get(e.key);
        if (before && (before.instance !== after?.instance || before.since !== after?.since)) this.newOwnerTerm(e.key);
        for (const listener of [...this.ownersChanged]) listener();
      }
    })().catch((err: unknown) => this.o.log.warn({ err }, 'watching dependency-owners stopped'));
    const served = serveActors(nc, () => this.held(runtime), this.o.log);
    this.stoppers.push(() => served.unsubscribe());
    for (const name of this.o.names) {
      const lease: DependencyLease = new DependencyLease({
        key: name,
        instance: this.o.instance,
        store: buckets.dependencyOwners,
        leaseMs: this.o.leaseMs,
        onAcquired: (token) => void this.own(name, token, lease, nc, buckets, runtime),
        onLost: (reason) => this.o.log.warn({ dependency: name, reason }, 'lost the dependency lease'),
        onLeaseMismatch: (holder) =>
          this.o.log.warn(
            { dependency: name, holder: holder.instance, holderLeaseMs: holder.leaseMs, leaseMs: this.o.leaseMs },
            'DEP_OWNER_LEASE_MS differs between instances: waiting out the longer lease before taking over',
          ),
      });
      this.terms.set(name, { lease });
      lease.start();
    }
  }

  private async own(name: string, token: number, lease: DependencyLease, nc: NatsConnection, buckets: SharedBuckets, runtime: DependencyRuntime<unknown>) {
    const term = lease.signal;
    const { log, instance } = this.o;
    const previous = await readBreaker(buckets.dependencyState, name).catch(() => undefined);
    if (term.aborted) return;
    // Asked immediately before each call's I/O: this term's lease, on this instance's clocks.
    runtime.acquire(name, previous?.stored.breaker, () => lease.check() && lease.token === token);
    log.info({ dependency: name, token, restored: previous?.stored.breaker.state }, 'owns the dependency');
    const writer = new BreakerWriter({ kv: buckets.dependencyState, name, owner: { instance, token }, revision: previous?.revision, log });
    const record = () => {
      const at = Date.now();
      const r = runtime.breakerRecord(name, at);
      writer.write(r, r && recordKey(r, at));
    };
    record();
    const unsubscribe = runtime.subscribe((e) => {
      if (e.dependency !== name) return;
      if (e.type === 'dep.transition' || e.type === 'dep.callSettled' || e.type === 'dep.waiting') record();
    });
    const { local, checks } = this.locals.get(name)!;
    const subscription = serveCalls({
      nc,
      local,
      parseRequest: (request) => checks.parseRequest(request),
      maxDeadlineMs: this.o.deadlineMs(name),
      isOwner: () => lease.isOwner,
      status: () => runtime.status(name),
      log,
    });
    term.addEventListener('abort', () => {
      subscription.unsubscribe();
      unsubscribe();
      void writer.stop();
      runtime.release(name, String((term.reason as Error | undefined)?.message ?? term.reason));
    }, { once: true });
  }

  private ownerTerm(name: string): AbortController {
    let term = this.ownerTerms.get(name);
    if (!term) this.ownerTerms.set(name, (term = new AbortController()));
    return term;
  }

  private newOwnerTerm(name: string): void {
    this.ownerTerm(name).abort();
    this.ownerTerms.set(name, new AbortController());
  }

  /**
   * Resolves once every cluster-scoped dependency has an owner (this
   * instance or another), or after `timeoutMs`: processing that starts
   * earlier would send its first calls to nobody and retry them.
   */
  async whenOwnersKnown(timeoutMs: number): Promise<void> {
    const known = () => this.o.names.every((name) => this.isOwner(name) || this.ownerOf.has(name));
    if (known()) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.ownersChanged.delete(check);
        resolve();
      };
      const check = () => {
        if (known()) done();
      };
      const timer = setTimeout(done, timeoutMs);
      this.ownersChanged.add(check);
    });
  }

  /** The instance holding `name`'s lease and since when, as `dependency-owners` says. */
  owner(name: string): { instance: string; since: string } | undefined {
    return this.ownerOf.get(name);
  }

  /** What this instance runs: its answer on `webhook-relay.ops.actors`. */
  private held(runtime: DependencyRuntime<unknown>): InstanceActors {
    const dependencies = runtime.statuses().filter((d) => runtime.holds(d.name));
    const owned: Record<string, string> = {};
    for (const d of dependencies) {
      const owner = this.ownerOf.get(d.name);
      if (owner?.instance === this.o.instance) owned[d.name] = owner.since;
    }
    return { instance: this.o.instance, dependencies, owned };
  }

  /** Stops the leases (releasing them for a quick handover) and the watches. */
  async stop(): Promise<void> {
    for (const s of this.stoppers.splice(0)) s();
    await Promise.all([...this.terms.values()].map((t) => t.lease.release()));
    this.terms.clear();
  }
}
