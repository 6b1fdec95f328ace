import type { Context } from '@opentelemetry/api';
import { and, assertEvent, assign, enqueueActions, setup, type SnapshotFrom } from 'xstate';
import { breakerFromRecord, closedBreaker, pausedUntilOf, cooldownFor, failuresOf, nextProbeOf, probeOf, shouldTrip, tripsOf, type BreakerData, type BreakerRecord, type BreakerState, type OpenBreaker } from './breaker.js';
import type { DependencyEmitted, DependencyEvent, ReplyChannel } from './dependencyEvents.js';
import { CircuitOpenError, DependencyTimeoutError, OverloadedError, OwnerUnavailableError, asDependencyError } from './errors.js';
import { limitsOf, resolveDependencyOptions, type DependencyOptions, type ResolvedDependencyOptions } from './options.js';
import { fromCall } from './performCall.js';
import { chargeAll, createBuckets, debtOf, emptyBuckets, msUntilAll, takeAll, type Buckets, type CallCost } from './buckets.js';

/** What the supervisor gives a dependency actor when it spawns it. */
export interface DependencyInput {
  /** The actor's name and systemId (`audnex`, `mam`, ...). */
  name: string;
  options?: DependencyOptions;
  /**
   * The breaker to start from: the previous owner's (from
   * `dependency-state`), or the crashed actor's. A restored actor starts
   * with empty buckets (less any debt the record carries): it cannot know
   * what was spent just before the previous one stopped.
   * @default undefined (closed, no failures, no pause, full buckets)
   */
  restore?: BreakerRecord;
  /**
   * Where `restore` comes from, for the breaker's reason.
   * @default 'the previous owner'
   */
  restoredFrom?: string;
  /**
   * Asked immediately before each call's I/O starts: whether this actor may
   * still talk to the dependency (its instance still holds the lease, on
   * its own clock). When it says no, calls are refused with
   * `DEP_OWNER_UNAVAILABLE` and nothing is sent.
   * @default always yes (a dependency with no owner across instances)
   */
  fence?: () => boolean;
}

/** A call waiting in the actor's mailbox. */
export interface QueuedCall {
  /** `call-<n>`, unique within the actor; also the id of its I/O actor. */
  readonly id: string;
  /** The dependency-specific request (typed by the actor's handle). */
  readonly request: unknown;
  /** What it draws from each token bucket (`calls: 1` unless given). */
  readonly cost: CallCost | undefined;
  readonly reply: ReplyChannel;
  /** Epoch ms it entered the mailbox. */
  readonly queuedAt: number;
  /** Epoch ms after which it is dropped instead of started (its caller stopped waiting). */
  readonly startBy: number | undefined;
  /** The caller's OpenTelemetry context, handed on in `dep.callStarted` / `dep.callRefused`. */
  readonly trace: Context | undefined;
}

/** A call whose I/O has started. */
export interface InFlightCall extends QueuedCall {
  /** Epoch ms its I/O started. */
  readonly startedAt: number;
}

/** Why the breaker is in its current state, and since when (the state itself is the chart's). */
export interface BreakerChange {
  /** The state it left; `undefined` when the actor (re)started. */
  readonly from: BreakerState | undefined;
  readonly reason: string;
  readonly at: number;
}

/** Calls that ended: answered, failed after being sent, refused without being sent. */
export interface CallCounters {
  readonly ok: number;
  readonly failed: number;
  readonly rejected: number;
}

/** Everything a dependency actor owns. */
export interface DependencyContext {
  readonly name: string;
  readonly options: ResolvedDependencyOptions;
  /** Calls waiting, oldest first. */
  readonly mailbox: readonly QueuedCall[];
  readonly inFlight: readonly InFlightCall[];
  readonly buckets: Buckets;
  /** Epoch ms before which no call starts (a 429's `Retry-After`). */
  readonly pausedUntil: number | undefined;
  /** The data of the breaker state the machine is in. */
  readonly breaker: BreakerData;
  readonly lastChange: BreakerChange;
  readonly counters: CallCounters;
  /** Moving average of the durations of calls that ended, in ms; undefined before the first. */
  readonly callMs: number | undefined;
  readonly nextCallSeq: number;
  /**
   * Aborted when this actor crashes: a crashed machine does not stop its I/O
   * actors, so every call's signal also follows this one (see the supervisor).
   */
  readonly lifetime: AbortController;
  /** See {@link DependencyInput.fence}. */
  readonly fence: () => boolean;
}

/** The clock every decision reads (sinon's fake timers drive it in tests). */
const now = (): number => Date.now();
/** Weight of the newest call in {@link DependencyContext.callMs}. */
const CALL_MS_WEIGHT = 0.2;
/** Id of a call's delayed timeout event. */
const timeoutId = (callId: string): string => `timeout:${callId}`;
/** The in-flight call with this id. */
const findCall = (context: DependencyContext, callId: string) => context.inFlight.find((c) => c.id === callId);

/** Time until the breaker lets a probe out, or a 429's pause ends, whichever is later. */
function retryAfterMs(context: DependencyContext, at: number): number {
  return Math.max(0, (nextProbeOf(context.breaker) ?? at) - at, (context.pausedUntil ?? 0) - at);
}

/** A fresh actor's context: full buckets, empty mailbox, a closed breaker or the one restored. */
function initialContext(input: DependencyInput): DependencyContext {
  const options = resolveDependencyOptions(input.options);
  const at = now();
  const { restore } = input;
  return {
    name: input.name,
    options,
    mailbox: [],
    inFlight: [],
    buckets: restore ? emptyBuckets(limitsOf(options), at, restore.debt) : createBuckets(limitsOf(options), at),
    pausedUntil: pausedUntilOf(restore, at),
    breaker: restore ? breakerFromRecord(restore, at) : closedBreaker,
    lastChange: { from: undefined, reason: restore ? `restored ${restore.state} from ${input.restoredFrom ?? 'the previous owner'}` : 'started', at },
    counters: { ok: 0, failed: 0, rejected: 0 },
    callMs: undefined,
    nextCallSeq: 1,
    lifetime: new AbortController(),
    fence: input.fence ?? (() => true),
  };
}

const refuseOverloaded = { guard: 'mailboxFull' as const, actions: { type: 'refuseCall' as const, params: { code: 'DEP_OVERLOADED' as const } } };

/**
 * The first transitions of `dispatching`, in order: drop a call whose caller
 * has stopped waiting (and look again), nothing to do (`idle`),
 * a 429 pause to sit out, no free concurrency slot, or no token. When none
 * applies, the state's own last transition starts the next call.
 */
const untilCallable = [
  { guard: 'fenced', actions: 'refuseHeadFenced' },
  { guard: 'headExpired', actions: 'expireHeadCall' },
  { guard: 'mailboxEmpty', target: 'idle' },
  { guard: 'paused', target: 'pausedForRetryAfter' },
  { guard: 'noFreeSlot', target: 'waitingForSlot' },
  { guard: 'noToken', target: 'waitingForToken' },
] as const;

/** Where `dispatching` parks until it can start a call; the waits schedule themselves with dynamic delays. */
const waitingStates = {
  idle: {},
  waitingForSlot: {},
  waitingForToken: { entry: { type: 'announceWait', params: { reason: 'rateLimit' } }, after: { tokenWait: 'dispatching' } },
  pausedForRetryAfter: { entry: { type: 'announceWait', params: { reason: 'retryAfter' } }, after: { retryAfterPause: 'dispatching' } },
} as const;

/**
 * One dependency actor: a FIFO mailbox served at most `concurrency` calls at
 * a time and `rate` per second, behind a circuit breaker whose states are the
 * machine's top-level states. Each call's I/O runs in a spawned `performCall`
 * actor (provide it per dependency with {@link fromCall}); a call that outlives
 * `timeoutMs` is stopped, which aborts its signal.
 *
 * Actions read the event that triggered them through `assertEvent` (a wrong
 * wiring throws at once instead of doing nothing); what a transition adds
 * (a code, a reason, the state it leaves or enters) comes as `params`.
 */
export const dependencyMachine = setup({
  types: {
    context: {} as DependencyContext,
    events: {} as DependencyEvent,
    input: {} as DependencyInput,
    emitted: {} as DependencyEmitted,
  },
  actors: {
    performCall: fromCall<unknown, never>(() => Promise.reject(new Error('performCall is not provided for this dependency'))),
  },
  guards: {
    mailboxFull: ({ context }) => context.mailbox.length >= context.options.maxQueue,
    mailboxEmpty: ({ context }) => context.mailbox.length === 0,
    /** A call is waiting but this actor may no longer talk to the dependency (its lease is gone, on this instance's clock). */
    fenced: ({ context }) => context.mailbox.length > 0 && !context.fence(),
    headExpired: ({ context }) => {
      const startBy = context.mailbox[0]?.startBy;
      return startBy !== undefined && now() >= startBy;
    },
    paused: ({ context }) => context.pausedUntil !== undefined && now() < context.pausedUntil,
    noFreeSlot: ({ context }) => context.inFlight.length >= context.options.concurrency,
    noToken: ({ context }) => msUntilAll(context.buckets, context.mailbox[0]?.cost, now()) > 0,
    isPermanentFailure: ({ event }) => {
      assertEvent(event, 'dep.callFailed');
      return !event.error.retriable;
    },
    /** Used in `closed` only: whether this failure is the threshold-th in a row. */
    shouldTrip: ({ context }) => shouldTrip(failuresOf(context.breaker) + 1, context.options.breakerThreshold),
    /** Used in `halfOpen.probing` only: whether the settled call is the probe. */
    /** Used at start only: the restored breaker was open. */
    restoredOpen: ({ context }) => nextProbeOf(context.breaker) !== undefined,
    /** Used at start only: the restored breaker was half-open. */
    restoredHalfOpen: ({ context }) => 'probeCallId' in context.breaker,
    isProbe: ({ context, event }) => {
      assertEvent(event, ['dep.callSucceeded', 'dep.callFailed']);
      return event.callId === probeOf(context.breaker);
    },
  },
  delays: {
    /**
     * Until the open breaker's probe time: the cool-down (constant, then
     * doubling on consecutive trips, capped) for a trip here, what is left of
     * it for a breaker restored from the previous owner.
     */
    halfOpenAfter: ({ context }) => Math.max(0, (nextProbeOf(context.breaker) ?? now()) - now()),
    tokenWait: ({ context }) => msUntilAll(context.buckets, context.mailbox[0]?.cost, now()),
    retryAfterPause: ({ context }) => Math.max(0, (context.pausedUntil ?? 0) - now()),
  },
  actions: {
    enqueueCall: assign(({ context, event }) => {
      assertEvent(event, 'dep.call');
      const call = { id: `call-${context.nextCallSeq}`, request: event.request, cost: event.cost, startBy: event.startBy, reply: event.reply, queuedAt: now(), trace: event.trace };
      return { mailbox: [...context.mailbox, call], nextCallSeq: context.nextCallSeq + 1 };
    }),
    refuseCall: enqueueActions(({ context, event, enqueue }, params: { code: 'DEP_OVERLOADED' | 'DEP_CIRCUIT_OPEN' }) => {
      assertEvent(event, 'dep.call');
      const at = now();
      const error =
        params.code === 'DEP_OVERLOADED'
          ? new OverloadedError(context.name, context.options.maxQueue)
          : new CircuitOpenError(context.name, retryAfterMs(context, at));
      enqueue.assign({ counters: { ...context.counters, rejected: context.counters.rejected + 1 } });
      enqueue(() => event.reply.reject(error));
      enqueue.emit({ type: 'dep.callRefused', dependency: context.name, code: params.code, queueLength: context.mailbox.length, at, trace: event.trace });
    }),
    expireHeadCall: enqueueActions(({ context, enqueue }) => {
      const [call, ...rest] = context.mailbox;
      if (!call) return;
      const at = now();
      const error = new OverloadedError(context.name, context.options.maxQueue, `the caller stopped waiting after ${at - call.queuedAt} ms in the mailbox`);
      enqueue.assign({ mailbox: rest, counters: { ...context.counters, rejected: context.counters.rejected + 1 } });
      enqueue(() => call.reply.reject(error));
      enqueue.emit({ type: 'dep.callRefused', dependency: context.name, code: error.code, queueLength: rest.length, at, trace: call.trace });
    }),
    refuseHeadFenced: enqueueActions(({ context, enqueue }) => {
      const [call, ...rest] = context.mailbox;
      if (!call) return;
      const error = new OwnerUnavailableError(context.name, 'this instance no longer holds the lease');
      enqueue.assign({ mailbox: rest, counters: { ...context.counters, rejected: context.counters.rejected + 1 } });
      enqueue(() => call.reply.reject(error));
      enqueue.emit({ type: 'dep.callRefused', dependency: context.name, code: error.code, queueLength: rest.length, at: now(), trace: call.trace });
    }),
    rejectQueuedCalls: enqueueActions(({ context, enqueue }) => {
      const at = now();
      const calls = context.mailbox;
      enqueue.assign({ mailbox: [], counters: { ...context.counters, rejected: context.counters.rejected + calls.length } });
      for (const call of calls) {
        const error = new CircuitOpenError(context.name, retryAfterMs(context, at));
        enqueue(() => call.reply.reject(error));
        enqueue.emit({ type: 'dep.callRefused', dependency: context.name, code: error.code, queueLength: 0, at, trace: call.trace });
      }
    }),
    startNextCall: enqueueActions(({ context, enqueue }, params: { probe: boolean }) => {
      const [call, ...rest] = context.mailbox;
      if (!call) return;
      const at = now();
      const inFlight = [...context.inFlight, { ...call, startedAt: at }];
      const breaker = params.probe ? { trips: tripsOf(context.breaker), probeCallId: call.id } : context.breaker;
      enqueue.assign({ mailbox: rest, inFlight, breaker, buckets: takeAll(context.buckets, call.cost, at) });
      enqueue.spawnChild('performCall', { id: call.id, input: { dependency: context.name, request: call.request, cost: call.cost, lifetime: context.lifetime.signal } });
      enqueue.raise({ type: 'dep.callTimedOut', callId: call.id }, { id: timeoutId(call.id), delay: context.options.timeoutMs });
      enqueue.emit({
        type: 'dep.callStarted',
        dependency: context.name,
        callId: call.id,
        waitedMs: at - call.queuedAt,
        probe: params.probe,
        queueLength: rest.length,
        inFlight: inFlight.length,
        at,
        trace: call.trace,
      });
    }),
    reportSuccess: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'xstate.done.actor.*');
      if (findCall(context, event.actorId)) enqueue.raise({ type: 'dep.callSucceeded', callId: event.actorId, output: event.output });
    }),
    reportFailure: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'xstate.error.actor.*');
      if (findCall(context, event.actorId)) {
        enqueue.raise({ type: 'dep.callFailed', callId: event.actorId, error: asDependencyError(context.name, event.error) });
      }
    }),
    abortTimedOutCall: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'dep.callTimedOut');
      if (!findCall(context, event.callId)) return;
      // Stopping the I/O actor aborts the signal it passed to fetch.
      enqueue.stopChild(event.callId);
      enqueue.raise({ type: 'dep.callFailed', callId: event.callId, error: new DependencyTimeoutError(context.name, context.options.timeoutMs) });
    }),
    settleCall: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, ['dep.callSucceeded', 'dep.callFailed']);
      const call = findCall(context, event.callId);
      if (!call) return;
      const at = now();
      const ok = event.type === 'dep.callSucceeded';
      const durationMs = at - call.startedAt;
      enqueue.assign({
        inFlight: context.inFlight.filter((c) => c !== call),
        callMs: context.callMs === undefined ? durationMs : context.callMs + CALL_MS_WEIGHT * (durationMs - context.callMs),
        buckets: ok ? chargeAll(context.buckets, event.output.charges) : context.buckets,
        counters: ok ? { ...context.counters, ok: context.counters.ok + 1 } : { ...context.counters, failed: context.counters.failed + 1 },
      });
      enqueue.cancel(timeoutId(call.id));
      enqueue.stopChild(call.id);
      enqueue(() => (ok ? call.reply.resolve(event.output.value) : call.reply.reject(event.error)));
      enqueue.emit({
        type: 'dep.callSettled',
        dependency: context.name,
        callId: call.id,
        outcome: ok ? 'ok' : 'failed',
        code: ok ? undefined : event.error.code,
        durationMs,
        at,
      });
    }),
    pauseOnRateLimit: assign(({ context, event }) => {
      assertEvent(event, 'dep.callFailed');
      if (event.error.code !== 'DEP_RATE_LIMITED') return {};
      const until = now() + (event.error.retryAfterMs ?? context.options.defaultRetryAfterMs);
      return { pausedUntil: Math.max(until, context.pausedUntil ?? 0) };
    }),
    /** Used in `closed` only. */
    countFailure: assign(({ context }) => ({ breaker: { consecutiveFailures: failuresOf(context.breaker) + 1 } })),
    resetFailures: assign({ breaker: closedBreaker }),
    tripBreaker: assign(({ context, event }, params: { from: 'closed' | 'halfOpen' }) => {
      assertEvent(event, 'dep.callFailed');
      const at = now();
      const trips = tripsOf(context.breaker) + 1;
      const code = event.error.code;
      const reason =
        params.from === 'halfOpen' ? `probe failed with ${code}` : `${context.options.breakerThreshold} consecutive failures, last ${code}`;
      const breaker: OpenBreaker = { openedAt: at, trips, nextProbeAt: at + cooldownFor(trips, context.options) };
      return { breaker, lastChange: { from: params.from, reason, at } };
    }),
    allowProbe: assign(({ context }) => ({
      breaker: { trips: tripsOf(context.breaker), probeCallId: undefined },
      lastChange: { from: 'open' as const, reason: `cool-down of ${cooldownFor(tripsOf(context.breaker), context.options)} ms elapsed`, at: now() },
    })),
    closeBreaker: assign((_, params: { reason: string }) => ({
      breaker: closedBreaker,
      lastChange: { from: 'halfOpen' as const, reason: params.reason, at: now() },
    })),
    announceTransition: enqueueActions(({ context, enqueue }, params: { to: BreakerState }) => {
      enqueue.emit({
        type: 'dep.transition',
        dependency: context.name,
        ...context.lastChange,
        to: params.to,
        queueLength: context.mailbox.length,
        inFlight: context.inFlight.length,
        nextProbeAt: nextProbeOf(context.breaker),
      });
    }),
    announceWait: enqueueActions(({ context, enqueue }, params: { reason: 'rateLimit' | 'retryAfter' }) => {
      const at = now();
      const waitMs = params.reason === 'rateLimit' ? msUntilAll(context.buckets, context.mailbox[0]?.cost, at) : retryAfterMs(context, at);
      enqueue.emit({ type: 'dep.waiting', dependency: context.name, reason: params.reason, until: at + waitMs, queueLength: context.mailbox.length, at });
    }),
  },
}).createMachine({
  id: 'dependency',
  context: ({ input }) => initialContext(input),
  // Outcomes of the per-call I/O actors arrive here in any state and are
  // re-raised as `dep.callSucceeded` / `dep.callFailed` for the breaker states.
  on: {
    'xstate.done.actor.*': { actions: 'reportSuccess' },
    'xstate.error.actor.*': { actions: 'reportFailure' },
    'dep.callTimedOut': { actions: 'abortTimedOutCall' },
  },
  initial: 'starting',
  states: {
    /** Transient: enters the breaker state the input restored (closed for a fresh actor). */
    starting: {
      always: [
        { guard: 'restoredOpen', target: 'open' },
        { guard: 'restoredHalfOpen', target: 'halfOpen' },
        { target: 'closed' },
      ],
    },
    /** Calls flow, paced by the buckets and the concurrency limit. */
    closed: {
      entry: { type: 'announceTransition', params: { to: 'closed' } },
      initial: 'dispatching',
      on: {
        'dep.call': [refuseOverloaded, { actions: 'enqueueCall', target: '.dispatching' }],
        'dep.callSucceeded': { actions: ['settleCall', 'resetFailures'], target: '.dispatching' },
        'dep.callFailed': [
          { guard: 'isPermanentFailure', actions: 'settleCall', target: '.dispatching' },
          { guard: 'shouldTrip', actions: ['settleCall', 'pauseOnRateLimit', { type: 'tripBreaker', params: { from: 'closed' } }], target: 'open' },
          { actions: ['settleCall', 'pauseOnRateLimit', 'countFailure'], target: '.dispatching' },
        ],
      },
      // `dispatching` is transient: it parks in a waiting state or starts the next call.
      states: {
        dispatching: { always: [...untilCallable, { actions: { type: 'startNextCall', params: { probe: false } } }] },
        ...waitingStates,
      },
    },
    /** The dependency is left alone: calls are refused at once until the cool-down has passed. */
    open: {
      entry: ['rejectQueuedCalls', { type: 'announceTransition', params: { to: 'open' } }],
      after: { halfOpenAfter: { target: 'halfOpen', actions: 'allowProbe' } },
      on: {
        'dep.call': { actions: { type: 'refuseCall', params: { code: 'DEP_CIRCUIT_OPEN' } } },
        'dep.callSucceeded': { actions: 'settleCall' },
        'dep.callFailed': { actions: ['settleCall', 'pauseOnRateLimit'] },
      },
    },
    /**
     * One probe goes out (still paced by buckets, slots and any 429 pause).
     * Calls arriving meanwhile wait in the mailbox; none is sent before the
     * probe's outcome: success closes the breaker, a retriable failure opens it again.
     */
    halfOpen: {
      entry: { type: 'announceTransition', params: { to: 'halfOpen' } },
      initial: 'dispatching',
      on: {
        'dep.call': [refuseOverloaded, { actions: 'enqueueCall', target: '.dispatching' }],
        'dep.callSucceeded': { actions: 'settleCall', target: '.dispatching' },
        'dep.callFailed': { actions: ['settleCall', 'pauseOnRateLimit'], target: '.dispatching' },
      },
      // As in `closed`, except that the call started is the probe.
      states: {
        dispatching: { always: [...untilCallable, { actions: { type: 'startNextCall', params: { probe: true } }, target: 'probing' }] },
        ...waitingStates,
        probing: {
          on: {
            'dep.call': [refuseOverloaded, { actions: 'enqueueCall' }],
            'dep.callSucceeded': [
              { guard: 'isProbe', actions: ['settleCall', { type: 'closeBreaker', params: { reason: 'probe succeeded' } }], target: '#dependency.closed' },
              { actions: 'settleCall' },
            ],
            'dep.callFailed': [
              {
                guard: and(['isProbe', 'isPermanentFailure']),
                actions: ['settleCall', { type: 'closeBreaker', params: { reason: 'probe answered with a permanent error: the dependency is up' } }],
                target: '#dependency.closed',
              },
              { guard: 'isProbe', actions: ['settleCall', 'pauseOnRateLimit', { type: 'tripBreaker', params: { from: 'halfOpen' } }], target: '#dependency.open' },
              { actions: ['settleCall', 'pauseOnRateLimit'] },
            ],
          },
        },
      },
    },
  },
});

/** The logic every dependency actor runs (with its own `performCall` provided). */
export type DependencyLogic = typeof dependencyMachine;

/** A dependency actor's snapshot. */
export type DependencySnapshot = SnapshotFrom<DependencyLogic>;

/** The breaker's state: the machine's top-level state, its only copy. */
export function breakerStateOf(snapshot: DependencySnapshot): BreakerState {
  if (snapshot.matches('open')) return 'open';
  return snapshot.matches('halfOpen') ? 'halfOpen' : 'closed';
}

/** The breaker to hand to the next owner, read from a snapshot at `at` (pure). */
export function breakerRecordOf(snapshot: DependencySnapshot, at: number): BreakerRecord {
  const { breaker, pausedUntil, buckets } = snapshot.context;
  const pausedForMs = pausedUntil !== undefined && pausedUntil > at ? pausedUntil - at : undefined;
  const debt = debtOf(buckets, at);
  const extra = { ...(pausedForMs === undefined ? {} : { pausedForMs }), ...(debt === undefined ? {} : { debt }) };
  const state = breakerStateOf(snapshot);
  if (state === 'open') return { state, trips: tripsOf(breaker), probeInMs: Math.max(0, (nextProbeOf(breaker) ?? at) - at), ...extra };
  if (state === 'halfOpen') return { state, trips: tripsOf(breaker), ...extra };
  return { state, consecutiveFailures: failuresOf(breaker), ...extra };
}
