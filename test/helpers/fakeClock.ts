import sinon from 'sinon';
import { track } from './controlledDependency.js';

/** Epoch ms the fake clock starts at: a fixed date, so runs are alike. */
export const FAKE_EPOCH = 1_700_000_000_000;

/**
 * What the fake clock replaces: timers and `Date` (XState's delays, the
 * actors' `Date.now()`, the stubs' answer delays and records). `setImmediate`,
 * `process.nextTick` and `performance` stay real: socket I/O needs them.
 */
const FAKED = ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] as const;

// Captured at import, before any test installs the fake clock.
const realSetTimeout = globalThis.setTimeout;
const realPause = () => new Promise<void>((resolve) => realSetTimeout(resolve, 1));

/** Options of {@link useFakeClock}. */
export interface FakeClockOptions {
  /**
   * Epoch ms the clock starts at.
   * @default FAKE_EPOCH
   */
  now?: number;
  /**
   * Whether fake time may move now: false while real I/O is under way whose
   * outcome the next timer could overtake (see {@link callsParked}).
   * @default () => true (nothing but timers: move freely)
   */
  quiet?: () => boolean;
}

/** Options of {@link FakeClock.until}. */
export interface UntilOptions {
  /**
   * Fake ms that may pass before giving up.
   * @default 600000
   */
  maxFakeMs?: number;
  /**
   * Real ms that may pass before giving up (a stuck socket, a missing reply).
   * @default 10000
   */
  realTimeoutMs?: number;
}

/** A sinon fake clock installed around each test of a `describe`. */
export interface FakeClock {
  /** sinon's clock, between `beforeEach` and `afterEach`. */
  readonly clock: sinon.SinonFakeTimers;
  /** Runs what is due now: microtasks and zero-delay timers. */
  flush: () => Promise<void>;
  /** Advances fake time by `ms`, running the timers due and the promise jobs they queue. */
  tickAsync: (ms: number) => Promise<number>;
  /**
   * Moves fake time on, one timer at a time and only while `quiet()`,
   * letting real I/O run in between, until `check` returns a truthy value.
   * @throws Error naming `what` when either time limit passes first.
   */
  until: <T>(what: string, check: () => T | Promise<T>, options?: UntilOptions) => Promise<NonNullable<T>>;
  /** Drives the clock until `promise` settles, and returns it. */
  settle: <T>(promise: Promise<T>, options?: UntilOptions) => Promise<T>;
}

/**
 * Installs sinon's fake timers (only {@link FAKED}) in `beforeEach` and
 * restores them in `afterEach`. Call it inside a `describe`.
 */
export function useFakeClock(options: FakeClockOptions = {}): FakeClock {
  let clock: sinon.SinonFakeTimers | undefined;
  const quiet = options.quiet ?? (() => true);
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: options.now ?? FAKE_EPOCH, toFake: [...FAKED] });
  });
  afterEach(() => {
    clock?.restore();
    clock = undefined;
  });
  const current = (): sinon.SinonFakeTimers => {
    if (!clock) throw new Error('the fake clock is only installed while a test runs');
    return clock;
  };

  const until = async <T>(what: string, check: () => T | Promise<T>, { maxFakeMs = 600_000, realTimeoutMs = 10_000 }: UntilOptions = {}) => {
    const c = current();
    const startedAt = c.now;
    const realDeadline = performance.now() + realTimeoutMs;
    for (;;) {
      const value = await check();
      if (value) return value as NonNullable<T>;
      if (c.now - startedAt > maxFakeMs || performance.now() > realDeadline) {
        throw new Error(`gave up waiting for ${what} after ${c.now - startedAt} fake ms`);
      }
      if (quiet() && c.countTimers() > 0) await c.nextAsync();
      else await realPause();
    }
  };

  return {
    get clock() {
      return current();
    },
    flush: async () => {
      await current().tickAsync(0);
    },
    tickAsync: (ms) => current().tickAsync(ms),
    until,
    settle: async (promise, untilOptions) => {
      const tracked = track(promise);
      await until('the call to settle', () => tracked.settled, untilOptions);
      return promise;
    },
  };
}

/** What {@link callsParked} reads of a dependency runtime. */
interface InFlightSource {
  status(name: string): { readonly inFlight: number } | undefined;
}

/** What {@link callsParked} reads of a stub server. */
interface ParkingSource {
  readonly parked: number;
}

/**
 * A `quiet` predicate for a dependency actor over a stub: fake time may move
 * only while every call the actor has in flight sits parked at the stub
 * (answer delayed on a fake timer, or hanging), so no request or answer is on
 * the wire when a timer fires, and the stub records the times the actor decided.
 */
export function callsParked(name: string, runtime: () => InFlightSource | undefined, stub: () => ParkingSource | undefined): () => boolean {
  return () => (runtime()?.status(name)?.inFlight ?? 0) === (stub()?.parked ?? 0);
}
