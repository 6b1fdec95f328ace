import { and, assign, enqueueActions, setup, type SnapshotFrom } from 'xstate';
import { closedBreaker, cooldownFor, shouldTrip, tripsOf, type BreakerData } from './breaker.js';
import { fromCall } from './call.js';
import {
  failureOf,
  findCall,
  initialContext,
  isCallDone,
  isCallError,
  now,
  retryAfterMs,
  timeoutId,
  type DependencyContext,
  type DependencyEvent,
  type DependencyInput,
} from './dependencyContext.js';
import { CircuitOpenError, DependencyTimeoutError, OverloadedError, asDependencyError } from './errors.js';
import type { DependencyEmitted } from './dependencyEvents.js';
import { chargeAll, msUntilAll, takeAll } from './tokenBucket.js';

const refuseOverloaded = { guard: 'mailboxFull' as const, actions: { type: 'refuseCall' as const, params: { code: 'DEP_OVERLOADED' as const } } };

/**
 * The substates that pick the next call: `dispatching` is transient and
 * decides, in this order, whether there is nothing to do (`idle`), a 429
 * pause to sit out, no free concurrency slot, or no token; otherwise it
 * takes `start`. The waiting states schedule themselves with dynamic delays.
 */
function dispatchStates<T>(start: T) {
  return {
    dispatching: {
      always: [
        { guard: 'mailboxEmpty' as const, target: 'idle' },
        { guard: 'paused' as const, target: 'pausedForRetryAfter' },
        { guard: 'noFreeSlot' as const, target: 'waitingForSlot' },
        { guard: 'noToken' as const, target: 'waitingForToken' },
        start,
      ],
    },
    idle: {},
    waitingForSlot: {},
    waitingForToken: {
      entry: { type: 'announceWait' as const, params: { reason: 'rateLimit' as const } },
      after: { tokenWait: 'dispatching' },
    },
    pausedForRetryAfter: {
      entry: { type: 'announceWait' as const, params: { reason: 'retryAfter' as const } },
      after: { retryAfterPause: 'dispatching' },
    },
  };
}

/**
 * One dependency actor: a FIFO mailbox served at most `concurrency` calls at
 * a time and `rate` per second, behind a circuit breaker whose states are the
 * machine's top-level states. Each call's I/O runs in a spawned `performCall`
 * actor (provide it per dependency with {@link fromCall}); a call that outlives
 * `timeoutMs` is stopped, which aborts its signal.
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
    paused: ({ context }) => context.pausedUntil !== undefined && now() < context.pausedUntil,
    noFreeSlot: ({ context }) => context.inFlight.length >= context.options.concurrency,
    noToken: ({ context }) => msUntilAll(context.buckets, context.mailbox[0]?.cost, now()) > 0,
    isPermanentFailure: ({ event }) => failureOf(event)?.retriable === false,
    shouldTrip: ({ context }) =>
      context.breaker.state === 'closed' && shouldTrip(context.breaker.consecutiveFailures + 1, context.options.breakerThreshold),
    isProbe: ({ context, event }) =>
      context.breaker.state === 'halfOpen' && 'callId' in event && event.callId === context.breaker.probeCallId,
  },
  delays: {
    /** The cool-down: constant, then doubling on consecutive trips, capped. */
    halfOpenAfter: ({ context }) => cooldownFor(tripsOf(context.breaker), context.options),
    tokenWait: ({ context }) => msUntilAll(context.buckets, context.mailbox[0]?.cost, now()),
    retryAfterPause: ({ context }) => Math.max(0, (context.pausedUntil ?? 0) - now()),
  },
  actions: {
    enqueueCall: assign(({ context, event }) => {
      if (event.type !== 'dep.call') return {};
      const call = { id: `call-${context.nextCallSeq}`, request: event.request, cost: event.cost, reply: event.reply, queuedAt: now() };
      return { mailbox: [...context.mailbox, call], nextCallSeq: context.nextCallSeq + 1 };
    }),
    refuseCall: enqueueActions(({ context, event, enqueue }, params: { code: 'DEP_OVERLOADED' | 'DEP_CIRCUIT_OPEN' }) => {
      if (event.type !== 'dep.call') return;
      const at = now();
      const error =
        params.code === 'DEP_OVERLOADED'
          ? new OverloadedError(context.name, context.options.maxQueue)
          : new CircuitOpenError(context.name, retryAfterMs(context, at));
      enqueue.assign({ counters: { ...context.counters, rejected: context.counters.rejected + 1 } });
      enqueue(() => event.reply.reject(error));
      enqueue.emit({ type: 'dep.callRefused', dependency: context.name, code: params.code, queueLength: context.mailbox.length, at });
    }),
    rejectQueuedCalls: enqueueActions(({ context, enqueue }) => {
      const at = now();
      const calls = context.mailbox;
      enqueue.assign({ mailbox: [], counters: { ...context.counters, rejected: context.counters.rejected + calls.length } });
      for (const call of calls) {
        const error = new CircuitOpenError(context.name, retryAfterMs(context, at));
        enqueue(() => call.reply.reject(error));
        enqueue.emit({ type: 'dep.callRefused', dependency: context.name, code: error.code, queueLength: 0, at });
      }
    }),
    startNextCall: enqueueActions(({ context, enqueue }, params: { probe: boolean }) => {
      const [call, ...rest] = context.mailbox;
      if (!call) return;
      const at = now();
      const inFlight = [...context.inFlight, { ...call, startedAt: at }];
      const breaker = params.probe && context.breaker.state === 'halfOpen' ? { ...context.breaker, probeCallId: call.id } : context.breaker;
      enqueue.assign({ mailbox: rest, inFlight, breaker, buckets: takeAll(context.buckets, call.cost, at) });
      enqueue.spawnChild('performCall', { id: call.id, input: { dependency: context.name, request: call.request, lifetime: context.lifetime.signal } });
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
      });
    }),
    reportOutcome: enqueueActions(({ context, event, enqueue }) => {
      if (isCallDone(event) && findCall(context, event.actorId)) {
        enqueue.raise({ type: 'dep.callSucceeded', callId: event.actorId, output: event.output });
      } else if (isCallError(event) && findCall(context, event.actorId)) {
        enqueue.raise({ type: 'dep.callFailed', callId: event.actorId, error: asDependencyError(context.name, event.error) });
      }
    }),
    abortTimedOutCall: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'dep.callTimedOut' || !findCall(context, event.callId)) return;
      // Stopping the I/O actor aborts the signal it passed to fetch.
      enqueue.stopChild(event.callId);
      enqueue.raise({ type: 'dep.callFailed', callId: event.callId, error: new DependencyTimeoutError(context.name, context.options.timeoutMs) });
    }),
    settleCall: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'dep.callSucceeded' && event.type !== 'dep.callFailed') return;
      const call = findCall(context, event.callId);
      if (!call) return;
      const at = now();
      const ok = event.type === 'dep.callSucceeded';
      enqueue.assign({
        inFlight: context.inFlight.filter((c) => c !== call),
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
        durationMs: at - call.startedAt,
        at,
      });
    }),
    pauseOnRateLimit: assign(({ context, event }) => {
      const error = failureOf(event);
      if (error?.code !== 'DEP_RATE_LIMITED') return {};
      const until = now() + (error.retryAfterMs ?? context.options.defaultRetryAfterMs);
      return { pausedUntil: Math.max(until, context.pausedUntil ?? 0) };
    }),
    countFailure: assign(({ context }) =>
      context.breaker.state === 'closed' ? { breaker: { ...context.breaker, consecutiveFailures: context.breaker.consecutiveFailures + 1 } } : {},
    ),
    resetFailures: assign({ breaker: closedBreaker }),
    tripBreaker: assign(({ context, event }) => {
      const at = now();
      const trips = tripsOf(context.breaker) + 1;
      const code = failureOf(event)?.code ?? 'unknown';
      const reason =
        context.breaker.state === 'halfOpen'
          ? `probe failed with ${code}`
          : `${context.options.breakerThreshold} consecutive failures, last ${code}`;
      const breaker: BreakerData = { state: 'open', openedAt: at, trips, nextProbeAt: at + cooldownFor(trips, context.options) };
      return { breaker, lastChange: { from: context.breaker.state, to: 'open' as const, reason, at } };
    }),
    allowProbe: assign(({ context }) => ({
      breaker: { state: 'halfOpen', trips: tripsOf(context.breaker), probeCallId: undefined } as const,
      lastChange: { from: context.breaker.state, to: 'halfOpen' as const, reason: `cool-down of ${cooldownFor(tripsOf(context.breaker), context.options)} ms elapsed`, at: now() },
    })),
    closeBreaker: assign(({ context }, params: { reason: string }) => ({
      breaker: closedBreaker,
      lastChange: { from: context.breaker.state, to: 'closed' as const, reason: params.reason, at: now() },
    })),
    announceTransition: enqueueActions(({ context, enqueue }) => {
      const { breaker } = context;
      enqueue.emit({
        type: 'dep.transition',
        dependency: context.name,
        ...context.lastChange,
        queueLength: context.mailbox.length,
        inFlight: context.inFlight.length,
        nextProbeAt: breaker.state === 'open' ? breaker.nextProbeAt : undefined,
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
    'xstate.done.actor.*': { actions: 'reportOutcome' },
    'xstate.error.actor.*': { actions: 'reportOutcome' },
    'dep.callTimedOut': { actions: 'abortTimedOutCall' },
  },
  initial: 'closed',
  states: {
    /** Calls flow, paced by the buckets and the concurrency limit. */
    closed: {
      entry: 'announceTransition',
      initial: 'dispatching',
      on: {
        'dep.call': [refuseOverloaded, { actions: 'enqueueCall', target: '.dispatching' }],
        'dep.callSucceeded': { actions: ['settleCall', 'resetFailures'], target: '.dispatching' },
        'dep.callFailed': [
          { guard: 'isPermanentFailure', actions: 'settleCall', target: '.dispatching' },
          { guard: 'shouldTrip', actions: ['settleCall', 'pauseOnRateLimit', 'tripBreaker'], target: 'open' },
          { actions: ['settleCall', 'pauseOnRateLimit', 'countFailure'], target: '.dispatching' },
        ],
      },
      states: dispatchStates({ actions: { type: 'startNextCall' as const, params: { probe: false } } }),
    },
    /** The dependency is left alone: calls are refused at once until the cool-down has passed. */
    open: {
      entry: ['rejectQueuedCalls', 'announceTransition'],
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
      entry: 'announceTransition',
      initial: 'dispatching',
      on: {
        'dep.call': [refuseOverloaded, { actions: 'enqueueCall', target: '.dispatching' }],
        'dep.callSucceeded': { actions: 'settleCall', target: '.dispatching' },
        'dep.callFailed': { actions: ['settleCall', 'pauseOnRateLimit'], target: '.dispatching' },
      },
      states: {
        ...dispatchStates({ target: 'probing', actions: { type: 'startNextCall' as const, params: { probe: true } } }),
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
              { guard: 'isProbe', actions: ['settleCall', 'pauseOnRateLimit', 'tripBreaker'], target: '#dependency.open' },
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
