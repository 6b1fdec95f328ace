import type { DoneActorEvent, ErrorActorEvent } from 'xstate';
import { closedBreaker, type BreakerData, type BreakerState } from './breaker.js';
import type { CallOutput, InFlightCall, QueuedCall, ReplyChannel } from './call.js';
import type { DependencyError } from './errors.js';
import { limitsOf, resolveDependencyOptions, type DependencyOptions, type ResolvedDependencyOptions } from './options.js';
import { createBuckets, type Buckets, type CallCost } from './tokenBucket.js';

/** What the supervisor gives a dependency actor when it spawns it. */
export interface DependencyInput {
  /** The actor's name and systemId (`audnex`, `mam`, ...). */
  name: string;
  options?: DependencyOptions;
}

/** Why the breaker is in its current state, and since when. */
export interface BreakerChange {
  readonly from: BreakerState | undefined;
  readonly to: BreakerState;
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
  readonly breaker: BreakerData;
  readonly lastChange: BreakerChange;
  readonly counters: CallCounters;
  readonly nextCallSeq: number;
  /**
   * Aborted when this actor crashes: a crashed machine does not stop its I/O
   * actors, so every call's signal also follows this one (see the supervisor).
   */
  readonly lifetime: AbortController;
}

/** Events a dependency actor handles. Callers only ever send `dep.call`, through a handle. */
export type DependencyEvent =
  | { type: 'dep.call'; request: unknown; cost?: CallCost; reply: ReplyChannel }
  | { type: 'dep.callSucceeded'; callId: string; output: CallOutput }
  | { type: 'dep.callFailed'; callId: string; error: DependencyError }
  | { type: 'dep.callTimedOut'; callId: string }
  | DoneActorEvent<CallOutput, string>
  | ErrorActorEvent<unknown, string>;

/** The clock every decision reads (sinon's fake timers drive it in tests). */
export const now = (): number => Date.now();
/** Id of a call's delayed timeout event. */
export const timeoutId = (callId: string): string => `timeout:${callId}`;
/** The in-flight call with this id. */
export const findCall = (context: DependencyContext, callId: string) => context.inFlight.find((c) => c.id === callId);
/** Whether the event is a call's I/O actor finishing. */
export const isCallDone = (e: DependencyEvent): e is DoneActorEvent<CallOutput, string> => e.type.startsWith('xstate.done.actor.');
/** Whether the event is a call's I/O actor failing. */
export const isCallError = (e: DependencyEvent): e is ErrorActorEvent<unknown, string> => e.type.startsWith('xstate.error.actor.');
/** The failure a `dep.callFailed` event carries. */
export const failureOf = (e: DependencyEvent) => (e.type === 'dep.callFailed' ? e.error : undefined);

/** Time until the breaker lets a probe out, or a 429's pause ends, whichever is later. */
export function retryAfterMs(context: DependencyContext, at: number): number {
  const probeAt = context.breaker.state === 'open' ? context.breaker.nextProbeAt : at;
  return Math.max(0, probeAt - at, (context.pausedUntil ?? 0) - at);
}

/** A fresh actor's context: closed breaker, full buckets, empty mailbox. */
export function initialContext(input: DependencyInput): DependencyContext {
  const options = resolveDependencyOptions(input.options);
  const at = now();
  return {
    name: input.name,
    options,
    mailbox: [],
    inFlight: [],
    buckets: createBuckets(limitsOf(options), at),
    pausedUntil: undefined,
    breaker: closedBreaker,
    lastChange: { from: undefined, to: 'closed', reason: 'started', at },
    counters: { ok: 0, failed: 0, rejected: 0 },
    nextCallSeq: 1,
    lifetime: new AbortController(),
  };
}
