import { fromCall, type PerformCall } from './performCall.js';
import type { DependencyCaller } from './caller.js';
import { dependencyMachine, type DependencyLogic } from './dependencyMachine.js';
import type { DependencyOptions } from './options.js';
import type { CallCost } from './buckets.js';

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
  /**
   * Checks a request that came from another instance; see {@link DependencySpec.parseRequest}.
   * @throws Error naming what is wrong.
   */
  parseRequest(request: unknown): unknown;
  /** What a (checked) request draws from each token bucket; see {@link DependencySpec.cost}. */
  costOf(request: unknown): CallCost | undefined;
  /**
   * Checks a result that another instance answered; see {@link DependencySpec.parseResult}.
   * @throws Error naming what is wrong.
   */
  parseResult(request: unknown, value: unknown): unknown;
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
   * Checks, field by field, a request that came from another instance (JSON
   * off the wire, see `webhook-relay.dep.<name>.call`) and returns it as
   * this dependency's request: the rules the handle applies before it calls,
   * applied again where the call runs, because a message on a call subject
   * claims anything. Throws a `DependencyError` naming what is wrong; the
   * owner answers it as `DEP_BAD_CALL` (permanent) and never queues the call,
   * so a forged call cannot reach `perform` or trip the breaker.
   * @default accepts any object
   */
  parseRequest?: (request: unknown) => Req;
  /**
   * What a request draws from each token bucket, computed from the request
   * wherever the call runs (a forwarded call's own claim is never used).
   * @default `{ calls: 1 }`
   */
  cost?: (request: Req) => CallCost;
  /**
   * Checks a result another instance answered for `request` (the same schema
   * `perform` checks the dependency's own answer against), so a reply on a
   * call subject cannot hand a handler a value the dependency never gave.
   * Throws naming what is wrong.
   * @default accepts any value
   */
  parseResult?: (request: Req, value: unknown) => Res;
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
    parseRequest: (request) => (spec.parseRequest ? spec.parseRequest(request) : request),
    costOf: (request) => spec.cost?.(request as Req),
    parseResult: (request, value) => (spec.parseResult ? spec.parseResult(request as Req, value) : value),
  };
}

/** Whether `r` is a plain object, the first check of every {@link DependencySpec.parseRequest}. */
export function isRequestObject(r: unknown): r is Record<string, unknown> {
  return typeof r === 'object' && r !== null && !Array.isArray(r);
}
