import { context } from '@opentelemetry/api';
import type { DependencyEvent, ReplyChannel } from './dependencyEvents.js';
import { ActorRestartedError, type DependencyError } from './errors.js';
import type { CallCost } from './buckets.js';

/** Per-call options. */
export interface CallOptions {
  /** What the call draws from each bucket. @default the definition's `cost` of the request, else `{ calls: 1 }` */
  cost?: CallCost;
  /**
   * Epoch ms after which the call is not worth starting (its caller has
   * stopped waiting): still queued then, it is dropped with `DEP_OVERLOADED`
   * and never reaches the dependency.
   * @default never
   */
  startBy?: number;
}

/**
 * Sends calls to one dependency actor and returns their outcome as a promise.
 * Typed handles (`deps.audnex`) are built on it; it hides where the actor
 * lives, so it could send over a wire instead.
 */
export interface DependencyCaller<Req> {
  /** The dependency's name. */
  readonly name: string;
  /**
   * Queues `request` in the actor's mailbox.
   * @throws DependencyError (rejects) with the call's failure.
   */
  call<Res>(request: Req, options?: CallOptions): Promise<Res>;
}

/** A caller the runtime can also tell that its actor crashed. */
export interface SupervisedCaller<Req> extends DependencyCaller<Req> {
  /** Rejects every call still waiting for an answer (their actor is gone). */
  failPending(error: DependencyError): void;
  /** Calls waiting for an answer. */
  readonly pending: number;
}

/** The part of a dependency actor a caller uses. */
export interface CallableActor {
  send(event: DependencyEvent): void;
  getSnapshot(): { status: string };
}

/** Where the actor is now: undefined while the supervisor restarts it. */
export type LocateActor = () => CallableActor | undefined;

/**
 * Creates the caller of dependency `name`.
 * @param locate finds the live actor (through the actor system)
 * @param restartInMs time until a crashed actor is back, when known
 * @param costOf what a request draws from each bucket (the definition's `cost`), where the call runs
 */
export function createCaller<Req>(
  name: string,
  locate: LocateActor,
  restartInMs: () => number | undefined,
  costOf: (request: Req) => CallCost | undefined = () => undefined,
): SupervisedCaller<Req> {
  const pending = new Set<ReplyChannel>();
  return {
    name,
    get pending() {
      return pending.size;
    },
    call<Res>(request: Req, options: CallOptions = {}): Promise<Res> {
      const actor = locate();
      if (actor?.getSnapshot().status !== 'active') return Promise.reject(new ActorRestartedError(name, restartInMs()));
      return new Promise<Res>((resolve, reject) => {
        const reply: ReplyChannel = {
          resolve: (value) => {
            pending.delete(reply);
            resolve(value as Res);
          },
          reject: (error) => {
            pending.delete(reply);
            reject(error);
          },
        };
        pending.add(reply);
        // The active trace context rides along, so the call's span is the caller's child.
        actor.send({ type: 'dep.call', request, cost: options.cost ?? costOf(request), startBy: options.startBy, reply, trace: context.active() });
      });
    },
    failPending(error) {
      for (const reply of [...pending]) reply.reject(error);
    },
  };
}
