import type { MetricsJson } from './metrics.js';
import { RecentIncrease } from './recentIncrease.js';
import { ingestCountersFrom, processingCountersFrom, sumOf } from './stats.js';

/** What grew in the last few minutes, as `/stats` reports it (`recentWindow`). */
export interface RecentGrowth {
  refused: number;
  retried: number;
  deadLettered: number;
}

/** How far back the status page's "last minutes" look: refusals and retries in it make its verdict a warning. */
export const RECENT_WINDOW_MS = 5 * 60_000;
const RECENT_STEP_MS = 10_000;

/**
 * One process's growth of refusals, retries and dead letters over the last
 * {@link RECENT_WINDOW_MS}, sampled from its own metrics every 10 s (and at
 * each reading), so that `/stats` can add up every process's window without
 * any process having to ask the others on a timer.
 */
export class RecentWindow {
  private readonly refused: RecentIncrease;
  private readonly retried: RecentIncrease;
  private readonly deadLettered: RecentIncrease;
  private readonly timer: NodeJS.Timeout;

  /** @param read this process's metrics */
  constructor(private readonly read: () => Promise<MetricsJson>) {
    const now = Date.now();
    this.refused = new RecentIncrease(RECENT_WINDOW_MS, RECENT_STEP_MS, now);
    this.retried = new RecentIncrease(RECENT_WINDOW_MS, RECENT_STEP_MS, now);
    this.deadLettered = new RecentIncrease(RECENT_WINDOW_MS, RECENT_STEP_MS, now);
    this.timer = setInterval(() => void this.sample().catch(() => undefined), RECENT_STEP_MS);
    this.timer.unref();
  }

  /** Records the counters in `json` (read now when omitted) and returns the growth within the window. */
  async sample(json?: MetricsJson): Promise<RecentGrowth> {
    const metrics = json ?? (await this.read());
    const now = Date.now();
    const processing = Object.values(processingCountersFrom(metrics).sources);
    return {
      refused: this.refused.record(sumOf(ingestCountersFrom(metrics).refusedByCode), now),
      retried: this.retried.record(processing.reduce((n, s) => n + s.retried, 0), now),
      deadLettered: this.deadLettered.record(processing.reduce((n, s) => n + s.deadLettered, 0), now),
    };
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
