import { nextProbeOfRecord, pausedUntilOf, type BreakerState, type ReceivedRecord } from './breaker.js';
import { nextProbeOf } from './breaker.js';
import { breakerStateOf, type CallCounters, type DependencySnapshot } from './dependencyMachine.js';
import { resolveDependencyOptions, type ResolvedDependencyOptions } from './options.js';
import type { SupervisedChild } from './supervisor.js';
import { refill } from '../../tokenBucket.js';

/** What a dependency is doing besides its breaker state. */
export type DependencyActivity =
  | 'idle'
  | 'waitingForSlot'
  | 'waitingForToken'
  | 'pausedForRetryAfter'
  | 'probing'
  | 'refusing'
  | 'restarting'
  /** Another instance owns this cluster-scoped dependency; calls are forwarded to it. */
  | 'elsewhere';

/** One dependency, as `GET /actors` and the status page show it. */
export interface DependencyStatus {
  readonly name: string;
  /** The breaker's state; `open` while the actor is down between a crash and its restart. */
  readonly state: BreakerState;
  readonly activity: DependencyActivity;
  /** Epoch ms of the last breaker change. */
  readonly since: number;
  /** Why the breaker last changed. */
  readonly reason: string;
  readonly queueLength: number;
  readonly inFlight: number;
  readonly counters: CallCounters;
  readonly limits: { readonly rate: number; readonly burst: number; readonly concurrency: number; readonly maxQueue: number; readonly timeoutMs: number };
  /** Tokens in each bucket now (`calls` and any extra ones). */
  readonly tokens: Readonly<Record<string, number>>;
  /** Most tokens each bucket holds (its burst), by the same names as `tokens`. */
  readonly tokenCapacity: Readonly<Record<string, number>>;
  /** Epoch ms the next probe may go out (open only). */
  readonly nextProbeAt: number | undefined;
  /** Epoch ms a 429's `Retry-After` ends, while it has not. */
  readonly pausedUntil: number | undefined;
  /** Supervisor restarts of this actor. */
  readonly restarts: number;
  /** How long a call typically takes, in ms (a moving average of those that ended); undefined before the first. */
  readonly callMs: number | undefined;
}

/** Whether a dependency takes calls now, for consumers that pause while it is open. */
export interface Availability {
  /** False while the breaker is open or the actor restarts. */
  readonly accepting: boolean;
  /** Time until it may accept again (0 when accepting). */
  readonly retryAfterMs: number;
}

function limitsSummary(options: ResolvedDependencyOptions): DependencyStatus['limits'] {
  const { rate, burst, concurrency, maxQueue, timeoutMs } = options;
  return { rate, burst, concurrency, maxQueue, timeoutMs };
}

function activityOf(value: DependencySnapshot['value']): DependencyActivity {
  if (typeof value === 'string') return 'refusing';
  const [sub] = Object.values(value);
  return sub === undefined || sub === 'dispatching' ? 'idle' : sub;
}

/** Describes a live actor's snapshot at time `at` (pure). */
export function describeDependency(snapshot: DependencySnapshot, restarts: number, at: number): DependencyStatus {
  const { context } = snapshot;
  const state = breakerStateOf(snapshot);
  return {
    name: context.name,
    state,
    activity: activityOf(snapshot.value),
    since: context.lastChange.at,
    reason: context.lastChange.reason,
    queueLength: context.mailbox.length,
    inFlight: context.inFlight.length,
    counters: context.counters,
    limits: limitsSummary(context.options),
    tokens: Object.fromEntries(Object.entries(context.buckets).map(([name, b]) => [name, Math.round(refill(b, at).tokens * 1000) / 1000])),
    tokenCapacity: Object.fromEntries(Object.entries(context.buckets).map(([name, b]) => [name, b.burst])),
    nextProbeAt: state === 'open' ? nextProbeOf(context.breaker) : undefined,
    pausedUntil: context.pausedUntil !== undefined && context.pausedUntil > at ? context.pausedUntil : undefined,
    restarts,
    callMs: context.callMs === undefined ? undefined : Math.round(context.callMs),
  };
}

/** Describes an actor the supervisor is about to restart (pure). */
export function describeRestarting(name: string, child: SupervisedChild): DependencyStatus {
  return describeAbsent(name, child, {
    state: 'open',
    activity: 'restarting',
    since: child.lastCrashAt ?? 0,
    reason: `actor crashed: ${child.lastError ?? 'unknown error'}`,
    nextProbeAt: child.restartAt,
    pausedUntil: undefined,
  });
}

/**
 * Describes a cluster-scoped dependency this instance does not run (pure):
 * its breaker comes from the owner's record, when one is known.
 */
export function describeElsewhere(name: string, child: SupervisedChild, remote: ReceivedRecord | undefined, at: number): DependencyStatus {
  const pausedUntil = pausedUntilOf(remote?.record, remote?.receivedAt ?? at);
  return describeAbsent(name, child, {
    state: remote?.record.state ?? 'closed',
    activity: 'elsewhere',
    since: at,
    reason: 'owned by another instance',
    nextProbeAt: nextProbeOfRecord(remote?.record, remote?.receivedAt ?? at),
    pausedUntil: pausedUntil !== undefined && pausedUntil > at ? pausedUntil : undefined,
  });
}

/** A status with no live actor here: empty mailbox, no counters or tokens. */
function describeAbsent(
  name: string,
  child: SupervisedChild,
  own: Pick<DependencyStatus, 'state' | 'activity' | 'since' | 'reason' | 'nextProbeAt' | 'pausedUntil'>,
): DependencyStatus {
  return {
    name,
    ...own,
    queueLength: 0,
    inFlight: 0,
    counters: { ok: 0, failed: 0, rejected: 0 },
    limits: limitsSummary(resolveDependencyOptions(child.options)),
    tokens: {},
    tokenCapacity: {},
    restarts: child.restarts,
    callMs: undefined,
  };
}

/** Whether calls are taken now, from a status (pure). */
export function availabilityOf(status: DependencyStatus, at: number): Availability {
  if (status.activity === 'restarting' || status.state === 'open') {
    return { accepting: false, retryAfterMs: Math.max(0, (status.nextProbeAt ?? at) - at, (status.pausedUntil ?? at) - at) };
  }
  return { accepting: true, retryAfterMs: 0 };
}
