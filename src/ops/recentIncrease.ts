/**
 * How much a cumulative counter grew over the last `windowMs`, from samples
 * of its total taken at least every `stepMs` (each `/stats` answer and a
 * timer take one). Memory stays bounded: one sample per step.
 */
export class RecentIncrease {
  private readonly samples: { at: number; total: number }[] = [];

  /**
   * @param windowMs how far back the increase looks
   * @param stepMs samples closer together than this replace each other
   * @param now the time of the first sample, whose total is 0
   * @throws RangeError when `windowMs` or `stepMs` is not positive
   */
  constructor(
    readonly windowMs: number,
    private readonly stepMs: number,
    now: number,
  ) {
    if (!(windowMs > 0)) throw new RangeError(`windowMs must be positive, got ${windowMs}`);
    if (!(stepMs > 0)) throw new RangeError(`stepMs must be positive, got ${stepMs}`);
    this.samples.push({ at: now, total: 0 });
  }

  /** Records the counter's `total` at `now` and returns its increase since the oldest sample inside the window. */
  record(total: number, now: number): number {
    const n = this.samples.length;
    // The newest sample moves forward until it is a step past the one before it.
    if (n > 1 && now - this.samples[n - 2]!.at < this.stepMs) this.samples[n - 1] = { at: now, total };
    else this.samples.push({ at: now, total });
    while (this.samples.length > 1 && this.samples[0]!.at < now - this.windowMs) this.samples.shift();
    return Math.max(0, total - this.samples[0]!.total);
  }
}
