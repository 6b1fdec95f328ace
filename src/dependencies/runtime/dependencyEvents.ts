import type { Context } from '@opentelemetry/api';
import type { DoneActorEvent, ErrorActorEvent } from 'xstate';
import type { BreakerState } from './breaker.js';
import type { DepErrorCode, DependencyError } from './errors.js';
import type { CallOutput } from './performCall.js';
import type { CallCost } from './buckets.js';

/**
 * Where a call's outcome goes: the caller's promise. Carried inside the
 * `dep.call` event, so the actor answers exactly the caller that asked.
 */
export interface ReplyChannel {
  /** Delivers the call's result. */
  resolve(value: unknown): void;
  /** Delivers the call's failure. */
  reject(error: DependencyError): void;
}

/** Events a dependency actor handles. Callers only ever send `dep.call`, through a handle. */
export type DependencyEvent =
  /** `trace`: the caller's OpenTelemetry context, the parent of the call's span. */
  | { type: 'dep.call'; request: unknown; cost?: CallCost; startBy?: number | undefined; reply: ReplyChannel; trace?: Context }
  | { type: 'dep.callSucceeded'; callId: string; output: CallOutput }
  | { type: 'dep.callFailed'; callId: string; error: DependencyError }
  | { type: 'dep.callTimedOut'; callId: string }
  | DoneActorEvent<CallOutput, string>
  | ErrorActorEvent<unknown, string>;

/** The breaker moved from one state to another. */
export interface DepTransitionEvent {
  readonly type: 'dep.transition';
  readonly dependency: string;
  /** `undefined` when the actor (re)started. */
  readonly from: BreakerState | undefined;
  readonly to: BreakerState;
  /** Why, in words an operator understands ("5 consecutive failures, last DEP_SERVER_ERROR"). */
  readonly reason: string;
  /** Epoch ms. */
  readonly at: number;
  /** Calls waiting in the mailbox after the transition. */
  readonly queueLength: number;
  readonly inFlight: number;
  /** Epoch ms the next probe may go out (open only). */
  readonly nextProbeAt: number | undefined;
}

/** A call left the mailbox and its I/O started. */
export interface DepCallStartedEvent {
  readonly type: 'dep.callStarted';
  readonly dependency: string;
  readonly callId: string;
  /** Time it waited in the mailbox. */
  readonly waitedMs: number;
  /** Whether it is the half-open probe. */
  readonly probe: boolean;
  /** The caller's OpenTelemetry context, carried from its `dep.call`. */
  readonly trace: Context | undefined;
  readonly queueLength: number;
  readonly inFlight: number;
  readonly at: number;
}

/** A started call ended. */
export interface DepCallSettledEvent {
  readonly type: 'dep.callSettled';
  readonly dependency: string;
  readonly callId: string;
  readonly outcome: 'ok' | 'failed';
  /** The failure's code. */
  readonly code: DepErrorCode | undefined;
  readonly durationMs: number;
  readonly at: number;
}

/** A call was refused without being sent (breaker open, mailbox full). */
export interface DepCallRefusedEvent {
  readonly type: 'dep.callRefused';
  readonly dependency: string;
  readonly code: DepErrorCode;
  /** The caller's OpenTelemetry context, carried from its `dep.call`. */
  readonly trace: Context | undefined;
  readonly queueLength: number;
  readonly at: number;
}

/** Calls are waiting for a token or for a 429's `Retry-After` to pass. */
export interface DepWaitingEvent {
  readonly type: 'dep.waiting';
  readonly dependency: string;
  readonly reason: 'rateLimit' | 'retryAfter';
  /** Epoch ms the actor will look again. */
  readonly until: number;
  readonly queueLength: number;
  readonly at: number;
}

/** Everything a dependency actor emits. */
export type DependencyEmitted =
  | DepTransitionEvent
  | DepCallStartedEvent
  | DepCallSettledEvent
  | DepCallRefusedEvent
  | DepWaitingEvent;

/** A dependency actor crashed; its pending callers got `DEP_ACTOR_RESTARTED`. */
export interface DepCrashedEvent {
  readonly type: 'dep.crashed';
  readonly dependency: string;
  /** The crash's message. */
  readonly error: string;
  /** Delay before the supervisor restarts it. */
  readonly restartInMs: number;
  readonly at: number;
}

/**
 * The supervisor is starting a dependency actor: at service start
 * (`restarts` 0) or in place of a crashed one. Emitted before the actor's own
 * first event, so a listener attached now sees all of them.
 */
export interface DepStartedEvent {
  readonly type: 'dep.started';
  readonly dependency: string;
  /** Restarts of this dependency so far (0 at service start). */
  readonly restarts: number;
  readonly at: number;
}

/**
 * This instance stopped running a cluster-scoped dependency (its lease ended):
 * its calls in flight were aborted and its waiting callers got `DEP_OWNER_UNAVAILABLE`.
 */
export interface DepReleasedEvent {
  readonly type: 'dep.released';
  readonly dependency: string;
  /** Why the lease ended. */
  readonly reason: string;
  readonly at: number;
}

/** Everything the supervisor emits. */
export type SupervisorEmitted = DepCrashedEvent | DepStartedEvent | DepReleasedEvent;

/** One entry of the runtime's event stream. */
export type DepEvent = DependencyEmitted | SupervisorEmitted;

/** Receives the runtime's events; must not throw and must return quickly. */
export type DepEventListener = (event: DepEvent) => void;
