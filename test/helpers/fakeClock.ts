import sinon from 'sinon';

/** The fake clock of the running test. */
export interface FakeClock {
  /** Advances time by `ms`, running timers and the promise jobs they queue. */
  tickAsync(ms: number): Promise<number>;
  /** Runs what is due now (timers at 0 ms and pending promise jobs). */
  flush: () => Promise<number>;
}

/**
 * Installs sinon fake timers starting at epoch ms `now` around each test of
 * the calling `describe` block (they drive XState's default clock too).
 */
export function useFakeClock(now: number): FakeClock {
  let clock: sinon.SinonFakeTimers | undefined;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now });
  });
  afterEach(() => {
    clock?.restore();
    clock = undefined;
  });
  const current = () => {
    if (!clock) throw new Error('the fake clock only runs inside a test');
    return clock;
  };
  return {
    tickAsync: (ms) => current().tickAsync(ms),
    flush: () => current().tickAsync(0),
  };
}
