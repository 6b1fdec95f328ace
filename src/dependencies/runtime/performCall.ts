import { fromPromise, type PromiseActorLogic } from 'xstate';
import type { CallCost } from './buckets.js';

/** What a call implementation gets besides its request. */
export interface CallContext {
  /** Aborted when the call times out or the actor stops: pass it to every I/O. */
  readonly signal: AbortSignal;
  /** The actor's name, for the errors it raises. */
  readonly dependency: string;
  /** What the call drew from each token bucket when it started (the definition's `cost`). */
  readonly cost: CallCost;
  /**
   * The running actor's lifetime: a new one each time the actor starts (a
   * restart, a new lease term on this instance), aborted when it stops.
   * State `perform` keeps in its closure outlives the actor; this tells it
   * when to reread what another actor may have changed meanwhile.
   */
  readonly lifetime: AbortSignal;
  /**
   * Corrects what the call drew from bucket `bucket` once the real cost is
   * known (positive charges more, negative refunds), e.g. an LLM's reported
   * token usage against its estimate.
   */
  charge: (bucket: string, delta: number) => void;
}

/**
 * Performs one call against the dependency. It must pass `ctx.signal` on and
 * throw `DependencyError`s (anything else counts as `DEP_UNAVAILABLE`).
 */
export type PerformCall<Req, Res> = (request: Req, ctx: CallContext) => Promise<Res>;

/** Input of the I/O actor the dependency machine spawns per call. */
export interface CallInput {
  readonly dependency: string;
  readonly request: unknown;
  /** What the call drew from each bucket. */
  readonly cost: CallCost | undefined;
  /** The owning actor's lifetime: aborted if it crashes. */
  readonly lifetime: AbortSignal;
}

/** Output of that I/O actor. */
export interface CallOutput {
  readonly value: unknown;
  /** Bucket corrections reported through {@link CallContext.charge}. */
  readonly charges: Readonly<Record<string, number>>;
}

/** The I/O actor logic type every dependency provides as `performCall`. */
export type CallLogic = PromiseActorLogic<CallOutput, CallInput>;

/**
 * Wraps a call implementation as the `fromPromise` actor the dependency
 * machine spawns for each call (the one place the untyped request is cast).
 */
export function fromCall<Req, Res>(perform: PerformCall<Req, Res>): CallLogic {
  return fromPromise<CallOutput, CallInput>(async ({ input, signal }) => {
    const charges: Record<string, number> = {};
    const value = await perform(input.request as Req, {
      signal: AbortSignal.any([signal, input.lifetime]),
      dependency: input.dependency,
      cost: input.cost ?? {},
      lifetime: input.lifetime,
      charge: (bucket, delta) => {
        charges[bucket] = (charges[bucket] ?? 0) + delta;
      },
    });
    return { value, charges };
  });
}
