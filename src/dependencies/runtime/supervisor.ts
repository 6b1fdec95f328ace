import { assertEvent, enqueueActions, setup, type AnyActorRef, type ErrorActorEvent } from 'xstate';
import { cappedExponential } from '../../backoff.js';
import type { BreakerRecord } from './breaker.js';
import { breakerRecordOf, type DependencyLogic, type DependencySnapshot } from './dependencyMachine.js';
import type { SupervisorEmitted } from './dependencyEvents.js';
import type { DependencyOptions } from './options.js';

/** How the supervisor restarts a crashed dependency actor. */
export interface RestartPolicy {
  /**
   * Delay before the first restart; doubles per crash in a row.
   * @default 1000
   */
  baseDelayMs?: number;
  /**
   * Cap of that delay.
   * @default 30000
   */
  maxDelayMs?: number;
  /**
   * A crash this long after the previous one starts the doubling again.
   * @default 60000
   */
  resetAfterMs?: number;
}

/** What the supervisor knows about each dependency it runs. */
export interface SupervisedChild {
  readonly options: DependencyOptions;
  /** Restarts so far. */
  readonly restarts: number;
  /** Crashes in a row (reset after `resetAfterMs` without one). */
  readonly crashStreak: number;
  readonly lastCrashAt: number | undefined;
  readonly lastError: string | undefined;
  /** Epoch ms of the pending restart, while the actor is down. */
  readonly restartAt: number | undefined;
  /**
   * Whether this instance runs the actor: false for a cluster-scoped
   * dependency while another instance owns it (`supervisor.acquire` starts it).
   */
  readonly held: boolean;
  /** Asked before each call's I/O while held (the lease check); see `DependencyInput.fence`. */
  readonly fence: (() => boolean) | undefined;
  /** The breaker the next start restores: the crashed actor's, so a crash resets no limit. */
  readonly restore: BreakerRecord | undefined;
}

/** The supervisor's context. */
export interface SupervisorContext {
  readonly children: Readonly<Record<string, SupervisedChild>>;
  readonly policy: Required<RestartPolicy>;
}

/** The supervisor's input: each dependency's options, by name (= systemId). */
export interface SupervisorInput {
  dependencies: Record<string, DependencyOptions>;
  restart?: RestartPolicy;
  /**
   * Dependencies not started now: each starts on `supervisor.acquire` (when
   * this instance takes its lease) and stops on `supervisor.release`.
   * @default [] (all start at once)
   */
  deferred?: readonly string[];
}

/** Events the supervisor handles. */
export type SupervisorEvent =
  | ErrorActorEvent<unknown, string>
  | { type: 'supervisor.restart'; dependency: string }
  /** This instance now owns `dependency`: start its actor from `restore`. */
  | { type: 'supervisor.acquire'; dependency: string; restore?: BreakerRecord; fence?: () => boolean }
  /** This instance no longer owns `dependency`: stop its actor, aborting its calls. */
  | { type: 'supervisor.release'; dependency: string; reason: string };

/** Delay before restarting after the `streak`-th crash in a row (pure). */
export function restartDelay(streak: number, policy: Required<RestartPolicy>): number {
  return cappedExponential({ baseMs: policy.baseDelayMs, maxMs: policy.maxDelayMs, attempt: streak });
}

const describe = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * The root actor: spawns one dependency actor per entry of `logics`, each with
 * `systemId` = its name, so handles find it through the actor system. When a
 * dependency actor crashes (an exception in its machine), the supervisor stops
 * the calls it had in flight (aborting their I/O), emits `dep.crashed` and
 * spawns a fresh actor after a backoff delay; the other actors are not touched.
 */
export function createSupervisorMachine(logics: Record<string, DependencyLogic>) {
  return setup({
    types: {
      context: {} as SupervisorContext,
      input: {} as SupervisorInput,
      events: {} as SupervisorEvent,
      emitted: {} as SupervisorEmitted,
    },
    actors: logics,
    actions: {
      spawnAll: enqueueActions(({ context, enqueue }) => {
        for (const [name, child] of Object.entries(context.children)) {
          if (!child.held) continue;
          // Emitted first: listeners attach to the new actor before it starts.
          enqueue.emit({ type: 'dep.started', dependency: name, restarts: 0, at: Date.now() });
          enqueue.spawnChild(name, { id: name, systemId: name, input: { name, options: child.options, fence: child.fence } });
        }
      }),
      handleCrash: enqueueActions(({ context, event, enqueue, self }) => {
        assertEvent(event, 'xstate.error.actor.*');
        const name = event.actorId;
        const previous = context.children[name];
        if (!previous?.held) return;
        const at = Date.now();
        const fresh = previous.lastCrashAt === undefined || at - previous.lastCrashAt > context.policy.resetAfterMs;
        const crashStreak = fresh ? 1 : previous.crashStreak + 1;
        const delay = restartDelay(crashStreak, context.policy);
        const crashed: AnyActorRef | undefined = self.getSnapshot().children[name];
        const snapshot = crashed?.getSnapshot() as DependencySnapshot | undefined;
        // A crashed machine does not stop its I/O actors: abort the calls it had in flight.
        enqueue(() => snapshot?.context.lifetime.abort());
        if (crashed) enqueue.stopChild(crashed);
        const restore = snapshot ? breakerRecordOf(snapshot, at) : previous.restore;
        const child = { ...previous, crashStreak, lastCrashAt: at, lastError: describe(event.error), restartAt: at + delay, restore };
        enqueue.assign({ children: { ...context.children, [name]: child } });
        enqueue.raise({ type: 'supervisor.restart', dependency: name }, { delay, id: `restart:${name}` });
        enqueue.emit({ type: 'dep.crashed', dependency: name, error: child.lastError, restartInMs: delay, at });
      }),
      restartChild: enqueueActions(({ context, event, enqueue }) => {
        assertEvent(event, 'supervisor.restart');
        const name = event.dependency;
        const previous = context.children[name];
        if (!previous?.held || previous.restartAt === undefined) return;
        const child = { ...previous, restarts: previous.restarts + 1, restartAt: undefined };
        enqueue.assign({ children: { ...context.children, [name]: child } });
        enqueue.emit({ type: 'dep.started', dependency: name, restarts: child.restarts, at: Date.now() });
        enqueue.spawnChild(name, { id: name, systemId: name, input: { name, options: child.options, restore: child.restore, restoredFrom: 'the crashed actor', fence: child.fence } });
      }),
      acquireChild: enqueueActions(({ context, event, enqueue }) => {
        assertEvent(event, 'supervisor.acquire');
        const name = event.dependency;
        const previous = context.children[name];
        if (!previous || previous.held) return;
        enqueue.assign({ children: { ...context.children, [name]: { ...previous, held: true, restartAt: undefined, fence: event.fence, restore: event.restore } } });
        enqueue.emit({ type: 'dep.started', dependency: name, restarts: previous.restarts, at: Date.now() });
        enqueue.spawnChild(name, { id: name, systemId: name, input: { name, options: previous.options, restore: event.restore, fence: event.fence } });
      }),
      releaseChild: enqueueActions(({ context, event, enqueue, self }) => {
        assertEvent(event, 'supervisor.release');
        const name = event.dependency;
        const previous = context.children[name];
        if (!previous?.held) return;
        const running: AnyActorRef | undefined = self.getSnapshot().children[name];
        // Stopping a machine does not stop its I/O actors: abort the calls in flight.
        enqueue(() => (running?.getSnapshot() as DependencySnapshot | undefined)?.context.lifetime.abort(new Error(event.reason)));
        if (running) enqueue.stopChild(running);
        enqueue.cancel(`restart:${name}`);
        enqueue.assign({ children: { ...context.children, [name]: { ...previous, held: false, restartAt: undefined, fence: undefined, restore: undefined } } });
        enqueue.emit({ type: 'dep.released', dependency: name, reason: event.reason, at: Date.now() });
      }),
    },
  }).createMachine({
    id: 'supervisor',
    context: ({ input }) => ({
      children: Object.fromEntries(
        Object.entries(input.dependencies).map(([name, options]) => [
          name,
          {
            options,
            restarts: 0,
            crashStreak: 0,
            lastCrashAt: undefined,
            lastError: undefined,
            restartAt: undefined,
            held: !input.deferred?.includes(name),
            fence: undefined,
            restore: undefined,
          },
        ]),
      ),
      policy: {
        baseDelayMs: input.restart?.baseDelayMs ?? 1000,
        maxDelayMs: input.restart?.maxDelayMs ?? 30_000,
        resetAfterMs: input.restart?.resetAfterMs ?? 60_000,
      },
    }),
    entry: 'spawnAll',
    on: {
      'xstate.error.actor.*': { actions: 'handleCrash' },
      'supervisor.restart': { actions: 'restartChild' },
      'supervisor.acquire': { actions: 'acquireChild' },
      'supervisor.release': { actions: 'releaseChild' },
    },
  });
}

/** The supervisor's machine type. */
export type SupervisorLogic = ReturnType<typeof createSupervisorMachine>;
