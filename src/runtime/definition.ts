import { fromCall, type PerformCall } from './performCall.js';
import type { DependencyCaller } from './caller.js';
import { dependencyMachine, type DependencyLogic } from './dependencyMachine.js';
import type { DependencyOptions } from './options.js';

/** Everything the runtime needs to run one dependency actor and hand out its handle. */
export interface DependencyDefinition<H> {
  /** The dependency machine with this dependency's `performCall`. */
  readonly logic: DependencyLogic;
  /** Rate, concurrency, timeout, mailbox and breaker settings. */
  readonly options: DependencyOptions;
  /** Builds the typed handle (`deps.audnex`) over the generic caller. */
  createHandle(caller: DependencyCaller<unknown>): H;
  /** Releases what the dependency holds outside its actor; see {@link DependencySpec.dispose}. */
  dispose?(): Promise<void>;
  /** Whether a request that came from another instance has this dependency's shape; see {@link DependencySpec.accepts}. */
  accepts(request: unknown): boolean;
}

/** What an actor file writes to define a dependency. */
export interface DependencySpec<Req, Res, H> {
  /** Rate, concurrency, timeout, mailbox and breaker settings. */
  options: DependencyOptions;
  /**
   * Performs one call: the only place that talks to the dependency. Runs one
   * at a time per concurrency slot, so state it keeps in its closure (a
   * session cookie, an SDK client) is owned by the actor and survives restarts.
   */
  perform: PerformCall<Req, Res>;
  /**
   * Builds the typed handle. Validate input here (a bad argument is a
   * `RejectedError` and never reaches the mailbox); a multi-step operation
   * (poll until ready) makes one call per step so waits hold no slot.
   */
  handle(caller: DependencyCaller<Req>): H;
  /**
   * Releases what `perform` keeps in its closure beyond the actor's life (a
   * browser process, a pool of connections). The runtime's `stop()` calls it
   * once, after every actor has stopped and its calls were aborted.
   * @default undefined (nothing to release)
   */
  dispose?: () => Promise<void>;
  /**
   * Whether a request forwarded by another instance (JSON off the wire, see
   * `webhook-relay.dep.<name>.call`) is one of this dependency's requests;
   * one that is not is refused with `DEP_BAD_CALL` and never reaches `perform`.
   * @default accepts any object
   */
  accepts?: (request: unknown) => boolean;
}

/**
 * Defines a dependency actor: the shared dependency machine with `perform`
 * provided as its `performCall` actor, plus its typed handle.
 */
export function defineDependency<Req, Res, H>(spec: DependencySpec<Req, Res, H>): DependencyDefinition<H> {
  return {
    logic: dependencyMachine.provide({ actors: { performCall: fromCall(spec.perform) } }),
    options: spec.options,
    createHandle: (caller) => spec.handle(caller),
    dispose: spec.dispose,
    accepts: spec.accepts ?? (() => true),
  };
}

/** Whether `r` is a plain object, the first check of every {@link DependencySpec.accepts}. */
export function isRequestObject(r: unknown): r is Record<string, unknown> {
  return typeof r === 'object' && r !== null && !Array.isArray(r);
}
