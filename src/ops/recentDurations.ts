/** How many durations a {@link RecentDurations} keeps unless told otherwise. */
export const RECENT_DURATIONS = 2048;

/**
 * The last `capacity` durations in a ring buffer, for a percentile over
 * recent work in bounded memory (the histogram metrics keep the long view).
 */
export class RecentDurations {
  private readonly values: Float64Array;
  private next = 0;
  private count = 0;

  constructor(readonly capacity = RECENT_DURATIONS) {
    this.values = new Float64Array(capacity);
  }

  /** How many durations the window holds now. */
  get size(): number {
    return this.count;
  }

  /** Records one duration in ms. */
  add(ms: number): void {
    this.values[this.next] = ms;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /** The durations the window holds, in no particular order. */
  toArray(): number[] {
    return Array.from(this.values.subarray(0, this.count));
  }

  /**
   * The `q` quantile (0..1) of the window by the nearest-rank method; null when empty.
   * @throws RangeError when `q` is outside 0..1.
   */
  quantile(q: number): number | null {
    return nearestRank(this.values.slice(0, this.count), q);
  }
}

/**
 * The `q` quantile (0..1) of `values` by the nearest-rank method; null when empty.
 * @throws RangeError when `q` is outside 0..1.
 */
export function nearestRank(values: ArrayLike<number>, q: number): number | null {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be between 0 and 1, got ${q}`);
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}
