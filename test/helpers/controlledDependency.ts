import { createActor } from 'xstate';
import { fromCall, type CallContext } from '../../src/dependencies/runtime/performCall.js';
import { createCaller, type CallOptions } from '../../src/dependencies/runtime/caller.js';
import type { BreakerRecord, ClosedBreaker, HalfOpenBreaker, OpenBreaker } from '../../src/dependencies/runtime/breaker.js';
import { breakerStateOf, dependencyMachine } from '../../src/dependencies/runtime/dependencyMachine.js';
import type { DependencyEmitted } from '../../src/dependencies/runtime/dependencyEvents.js';
import type { DependencyOptions } from '../../src/dependencies/runtime/options.js';

/** The breaker's chart state together with that state's data, for assertions. */
export type BreakerView =
  | ({ state: 'closed' } & ClosedBreaker)
  | ({ state: 'open' } & OpenBreaker)
  | ({ state: 'halfOpen' } & HalfOpenBreaker);

/** One started call whose I/O the test finishes by hand. */
export interface ControlledIo {
  readonly request: unknown;
  readonly ctx: CallContext;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** A call's promise, observed without leaving rejections unhandled. */
export interface Tracked<T = unknown> {
  settled: boolean;
  value?: T;
  error?: unknown;
}

/** Observes `promise`'s outcome. */
export function track<T>(promise: Promise<T>): Tracked<T> {
  const t: Tracked<T> = { settled: false };
  promise.then(
    (value) => Object.assign(t, { settled: true, value }),
    (error: unknown) => Object.assign(t, { settled: true, error }),
  );
  return t;
}

/**
 * Starts a bare dependency actor named `fake` whose I/O never completes on
 * its own: `io` lists every call that reached the "network", in order.
 */
export function startControlled(options: DependencyOptions = {}, restore?: BreakerRecord, fence?: () => boolean) {
  const io: ControlledIo[] = [];
  const logic = dependencyMachine.provide({
    actors: {
      performCall: fromCall<unknown, unknown>(
        (request, ctx) => new Promise((resolve, reject) => io.push({ request, ctx, resolve, reject })),
      ),
    },
  });
  const actor = createActor(logic, { input: { name: 'fake', options, restore, fence } });
  const events: DependencyEmitted[] = [];
  actor.on('*', (e) => events.push(e));
  actor.start();
  const caller = createCaller<unknown>('fake', () => actor, () => undefined);
  return {
    actor,
    io,
    events,
    call: <T = unknown>(request: unknown, opts?: CallOptions) => track(caller.call<T>(request, opts)),
    /** `closed`, `open` or `halfOpen`: the chart's top-level state. */
    breaker: () => breakerStateOf(actor.getSnapshot()),
    /** The chart state with the data the machine keeps for it. */
    breakerData: () => ({ state: breakerStateOf(actor.getSnapshot()), ...actor.getSnapshot().context.breaker }) as BreakerView,
    /** The last breaker change, with the state it led to. */
    lastChange: () => ({ ...actor.getSnapshot().context.lastChange, to: breakerStateOf(actor.getSnapshot()) }),
    /** The full state value, e.g. `{ closed: 'waitingForToken' }`. */
    value: () => actor.getSnapshot().value,
    context: () => actor.getSnapshot().context,
  };
}
