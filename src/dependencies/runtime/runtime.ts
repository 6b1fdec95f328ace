import { createActor, type Actor, type ActorRefFrom, type InspectionEvent, type Observer } from 'xstate';
import type { Log } from '../../log.js';
import type { BreakerRecord, ReceivedRecord } from './breaker.js';
import { traceDependencyCalls } from './callSpans.js';
import { createCaller, type DependencyCaller, type SupervisedCaller } from './caller.js';
import type { DependencyDefinition } from './definition.js';
import { breakerRecordOf, type DependencyLogic } from './dependencyMachine.js';
import { ActorRestartedError, OwnerUnavailableError } from './errors.js';
import type { DepEvent, DepEventListener } from './dependencyEvents.js';
import { resolveDependencyOptions } from './options.js';
import { availabilityOf, describeDependency, describeElsewhere, describeRestarting, type Availability, type DependencyStatus } from './status.js';
import { createSupervisorMachine, type RestartPolicy, type SupervisorLogic } from './supervisor.js';

/** Options of {@link startDependencies}. */
export interface StartDependenciesOptions {
  /**
   * How crashed actors are restarted.
   * @default { baseDelayMs: 1000, maxDelayMs: 30000, resetAfterMs: 60000 }
   */
  restart?: RestartPolicy;
  /**
   * XState inspection observer (the `@statelyai/inspect` inspector's `inspect`).
   * @default undefined
   */
  inspect?: Observer<InspectionEvent>;
  /**
   * Logs breaker transitions, crashes and restarts.
   * @default undefined (silent)
   */
  log?: Log;
  /**
   * Dependencies whose actor starts only on {@link DependencyRuntime.acquire}
   * (cluster-scoped ones, while another instance may own them).
   * @default [] (every actor starts now)
   */
  deferred?: readonly string[];
  /**
   * Wraps each dependency's local caller, e.g. to forward calls to the
   * instance that owns it; the handles are built over what it returns.
   * @default undefined (handles call the local actor)
   */
  routeCalls?: (name: string, local: DependencyCaller<unknown>, wire: CallChecks) => DependencyCaller<unknown>;
  /**
   * The breaker of a dependency this instance does not run, as its owner
   * last recorded it (for `status()` and the consumers' gate).
   * @default undefined (unknown: shown closed)
   */
  remoteBreaker?: (name: string) => ReceivedRecord | undefined;
}

/** How a dependency checks what crosses a process boundary: a forwarded request, and the owner's result. */
export type CallChecks = Pick<DependencyDefinition<unknown>, 'parseRequest' | 'parseResult'>;

/** The typed handles of a set of definitions, by name. */
export type HandlesOf<D> = { readonly [K in keyof D]: D[K] extends DependencyDefinition<infer H> ? H : never };

/** The running dependency actors: their handles, events and state. */
export interface DependencyRuntime<D> {
  /** Typed handles, e.g. `deps.audnex.getBook(asin)`; this is what handlers receive. */
  readonly deps: HandlesOf<D>;
  /** Names of the supervised dependencies. */
  readonly names: readonly string[];
  /** The root actor (tests and the inspector reach the system through it). */
  readonly supervisor: Actor<SupervisorLogic>;
  /**
   * Receives every transition, call start/end/refusal, wait, crash and
   * (re)start, from now on (read {@link DependencyRuntime.statuses} for the
   * state so far).
   * @returns a function that unsubscribes
   */
  subscribe(listener: DepEventListener): () => void;
  /** One dependency's state now; undefined for an unknown name. */
  status(name: string): DependencyStatus | undefined;
  /** Every dependency's state now. */
  statuses(): DependencyStatus[];
  /**
   * Whether `name` takes calls now, and if not, how long until it may.
   * @throws RangeError for an unknown name.
   */
  availability(name: string): Availability;
  /**
   * Stops every actor (aborting calls in flight), fails calls still waiting
   * with `DEP_ACTOR_RESTARTED`, then disposes every definition (closing, for
   * instance, the browser). Resolves once they are released; a failing
   * dispose is logged, never thrown.
   */
  stop(): Promise<void>;
  /**
   * Starts a deferred dependency's actor (this instance took its lease),
   * from the previous owner's breaker; `fence` is asked before each call's
   * I/O (see {@link DependencyInput.fence}).
   */
  acquire(name: string, restore?: BreakerRecord, fence?: () => boolean): void;
  /** Stops a dependency's actor (its lease ended): calls in flight are aborted, waiting callers get `DEP_OWNER_UNAVAILABLE`. */
  release(name: string, reason: string): void;
  /** Whether this instance runs `name`'s actor now. */
  holds(name: string): boolean;
  /** The breaker of a running actor as a record to hand over, read at `at`; undefined when not running here. */
  breakerRecord(name: string, at?: number): BreakerRecord | undefined;
}

function mapValues<T, U>(record: Record<string, T>, f: (value: T, key: string) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, f(v, k)]));
}

function logEvent(log: Log, event: DepEvent): void {
  if (event.type === 'dep.transition') {
    const level = event.to === 'open' ? 'warn' : 'info';
    log[level]({ dependency: event.dependency, from: event.from, to: event.to, reason: event.reason, nextProbeAt: event.nextProbeAt }, 'dependency breaker changed');
  } else if (event.type === 'dep.crashed') {
    log.error({ dependency: event.dependency, err: event.error, restartInMs: event.restartInMs }, 'dependency actor crashed');
  } else if (event.type === 'dep.started' && event.restarts > 0) {
    log.info({ dependency: event.dependency, restarts: event.restarts }, 'dependency actor restarted');
  }
}

/**
 * Starts the supervisor with one actor per definition (name = systemId) and
 * returns the handles and the observation API.
 * @throws RangeError when a definition's options are invalid (checked before anything starts).
 */
export function startDependencies<D extends Record<string, DependencyDefinition<unknown>>>(
  definitions: D,
  options: StartDependenciesOptions = {},
): DependencyRuntime<D> {
  const names = Object.keys(definitions);
  // Resolved here so a bad option throws now instead of crash-looping the actor.
  const resolved = mapValues(definitions, (d) => resolveDependencyOptions(d.options));
  const supervisor = createActor(createSupervisorMachine(mapValues(definitions, (d) => d.logic)), {
    input: { dependencies: resolved, restart: options.restart, deferred: options.deferred },
    inspect: options.inspect,
  });
  const listeners = new Set<DepEventListener>();
  const publish = (event: DepEvent) => {
    for (const listener of listeners) {
      // A throwing listener must not reach XState, which rethrows it globally.
      try {
        listener(event);
      } catch (err) {
        options.log?.error({ err, event: event.type }, 'dependency event listener failed');
      }
    }
  };
  listeners.add(traceDependencyCalls());
  if (options.log) {
    const log = options.log;
    listeners.add((event) => logEvent(log, event));
  }
  const restartInMs = (name: string) => {
    const at = supervisor.getSnapshot().context.children[name]?.restartAt;
    return at === undefined ? undefined : Math.max(0, at - Date.now());
  };
  // The actor system's registry is untyped; every systemId in it is a dependency actor.
  const actorOf = (name: string) => supervisor.system.get(name) as ActorRefFrom<DependencyLogic> | undefined;
  const callers: Record<string, SupervisedCaller<unknown>> = mapValues(definitions, (_, name) =>
    createCaller(name, () => actorOf(name), () => restartInMs(name), (request) => definitions[name]!.costOf(request)),
  );
  const attach = (name: string) => actorOf(name)?.on('*', publish);

  supervisor.on('*', (event) => {
    if (event.type === 'dep.crashed') callers[event.dependency]?.failPending(new ActorRestartedError(event.dependency, event.restartInMs));
    if (event.type === 'dep.released') callers[event.dependency]?.failPending(new OwnerUnavailableError(event.dependency, event.reason));
    publish(event);
    // The new actor exists but has not started: attaching now catches its first transition.
    if (event.type === 'dep.started') attach(event.dependency);
  });
  supervisor.start();

  const status = (name: string): DependencyStatus | undefined => {
    const child = supervisor.getSnapshot().context.children[name];
    if (!child) return undefined;
    if (!child.held) return describeElsewhere(name, child, options.remoteBreaker?.(name), Date.now());
    const actor = actorOf(name);
    if (child.restartAt !== undefined || !actor) return describeRestarting(name, child);
    return describeDependency(actor.getSnapshot(), child.restarts, Date.now());
  };

  return {
    deps: mapValues(definitions, (d, name) => d.createHandle(options.routeCalls?.(name, callers[name]!, d) ?? callers[name]!)) as HandlesOf<D>,
    names,
    supervisor,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    status,
    statuses: () => names.map((name) => status(name)!),
    availability(name) {
      const s = status(name);
      if (!s) throw new RangeError(`unknown dependency '${name}'`);
      return availabilityOf(s, Date.now());
    },
    acquire: (name, restore, fence) => supervisor.send({ type: 'supervisor.acquire', dependency: name, restore, fence }),
    release: (name, reason) => supervisor.send({ type: 'supervisor.release', dependency: name, reason }),
    holds: (name) => supervisor.getSnapshot().context.children[name]?.held ?? false,
    breakerRecord(name, at = Date.now()) {
      const child = supervisor.getSnapshot().context.children[name];
      const actor = actorOf(name);
      if (!child?.held || child.restartAt !== undefined || !actor) return undefined;
      return breakerRecordOf(actor.getSnapshot(), at);
    },
    async stop() {
      supervisor.stop();
      for (const [name, caller] of Object.entries(callers)) caller.failPending(new ActorRestartedError(name));
      listeners.clear();
      const released = await Promise.allSettled(
        names.map(async (name) => {
          await definitions[name]!.dispose?.();
        }),
      );
      released.forEach((outcome, i) => {
        if (outcome.status === 'rejected') options.log?.error({ dependency: names[i], err: outcome.reason }, 'dependency dispose failed');
      });
    },
  };
}
