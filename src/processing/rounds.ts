import type { Log } from '../log.js';

/**
 * Runs `round` at start and again after each one ends, `next(result)` later,
 * until stopped; a failed round is logged and the next one comes at
 * `retryMs`. Timers never keep the process alive.
 */
export class Rounds<T> {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<unknown> | undefined;
  private running = false;

  /**
   * @param round one round
   * @param next the pause after a round that ended with `result`
   * @param retryMs the pause after a round that failed
   * @param failure the warning logged for a failed round
   */
  constructor(
    private readonly round: () => Promise<T>,
    private readonly next: (result: T) => number,
    private readonly retryMs: number,
    private readonly log: Log,
    private readonly failure: string,
  ) {}

  /** Runs a round now and then one after each. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      let pause = this.retryMs;
      this.current = this.round()
        .then((result) => (pause = this.next(result)))
        .catch((err) => this.log.warn({ err }, this.failure))
        .finally(() => {
          if (this.running) this.schedule(pause);
        });
    }, delayMs);
    this.timer.unref();
  }

  /** Stops the rounds, waiting for the one under way. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.current;
  }
}
