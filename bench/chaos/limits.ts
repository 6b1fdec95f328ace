import type { RecordedCall } from '../../test/stubs/stubServer.js';
import { callerOf } from './audnexStub.js';
import { holderAt, takeoverAfter, type LeaseWrite } from './ownerTimeline.js';
import { textTable } from './textTable.js';

/** A dependency's limits, as its `<DEP>_RATE`, `<DEP>_BURST` and `<DEP>_CONCURRENCY` set them. */
export interface DependencyLimits {
  /** Calls per second. */
  rate: number;
  /** Calls that may start back to back after a quiet spell. */
  burst: number;
  /** Calls in flight at once. */
  concurrency: number;
}

/** Calls per window of one length, against what the limits allow in it. */
export interface WindowFigures {
  windowMs: number;
  /** Most calls that started within one window. */
  busiest: number;
  /** burst + rate × window: the most a token bucket lets start within any closed window of that length. */
  limit: number;
  /** Windows (one opened by each call) holding more than `limit` calls. */
  over: number;
}

/** What the dependency's stub saw across one ownership fault. */
export interface LimitFigures {
  fault: string;
  /** The lease holder when the fault began: the instance it struck. */
  oldOwner: string;
  /** The first other instance to take the lease after the fault began. */
  newOwner: string | undefined;
  /** Calls waiting in the old owner's Audnex mailbox when the fault struck. */
  queuedAtFault: number;
  /** From the fault to the new owner's lease write. */
  newOwnerMs: number | undefined;
  /** From the fault to the new owner's first call at the stub. */
  firstCallMs: number | undefined;
  /** From the fault to the old owner's last call at the stub (negative: before the fault). */
  oldOwnerLastCallMs: number | undefined;
  /** Calls the stub received, from the start of the load to the end of processing. */
  calls: number;
  /** Most calls in flight at once at the stub. */
  maxInFlight: number;
  concurrency: number;
  /** Per second. */
  second: WindowFigures;
  /** Per 1/rate: the spacing of calls at the rate. */
  slot: WindowFigures;
  /** Calls started by an instance while `dependency-owners` named another one (or none): calls under a term that had ended. */
  outsideTerm: number;
}

/**
 * The most of `starts` (ms) within any closed window of `windowMs`, and how
 * many windows, one opened by each start, hold more than `limit`.
 */
export function windowsOf(starts: readonly number[], windowMs: number, limit: number): WindowFigures {
  const sorted = [...starts].sort((a, b) => a - b);
  let busiest = 0;
  let over = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    if (j < i) j = i;
    while (j + 1 < sorted.length && sorted[j + 1]! - sorted[i]! <= windowMs) j++;
    const n = j - i + 1;
    busiest = Math.max(busiest, n);
    if (n > limit) over++;
  }
  return { windowMs, busiest, limit, over };
}

/** The figures of one fault from the stub's records and the lease's writes. */
export function limitFigures(o: {
  fault: string;
  limits: DependencyLimits;
  calls: readonly RecordedCall[];
  maxInFlight: number;
  /** The writes to the dependency's lease, oldest first. */
  writes: readonly LeaseWrite[];
  oldOwner: string;
  faultAt: number;
  queuedAtFault: number;
}): LimitFigures {
  const { limits, calls, writes, oldOwner, faultAt } = o;
  const starts = calls.map((c) => c.startedAt);
  const slotMs = 1000 / limits.rate;
  const taken = takeoverAfter(writes, faultAt, oldOwner);
  const byNew = calls.filter((c) => c.startedAt > faultAt && taken !== undefined && callerOf(c) === taken.instance);
  const byOld = calls.filter((c) => callerOf(c) === oldOwner);
  return {
    fault: o.fault,
    oldOwner,
    queuedAtFault: o.queuedAtFault,
    newOwner: taken?.instance,
    newOwnerMs: taken && taken.at - faultAt,
    firstCallMs: byNew.length > 0 ? Math.min(...byNew.map((c) => c.startedAt)) - faultAt : undefined,
    oldOwnerLastCallMs: byOld.length > 0 ? Math.max(...byOld.map((c) => c.startedAt)) - faultAt : undefined,
    calls: calls.length,
    maxInFlight: o.maxInFlight,
    concurrency: limits.concurrency,
    second: windowsOf(starts, 1000, limits.burst + limits.rate),
    slot: windowsOf(starts, slotMs, limits.burst + 1),
    outsideTerm: calls.filter((c) => holderAt(writes, c.startedAt) !== callerOf(c)).length,
  };
}

/** Whether a fault's figures break the limits or the one-owner rule, or no other instance took over. */
export function overLimit(f: LimitFigures): boolean {
  return f.newOwner === undefined || f.maxInFlight > f.concurrency || f.second.over > 0 || f.slot.over > 0 || f.outsideTerm > 0;
}

const ms = (n: number | undefined) => (n === undefined ? '-' : String(n));

/** The figures as a fixed-width table. */
export function limitTable(rows: readonly LimitFigures[]): string {
  const heads = ['fault', 'queued at fault', 'calls', 'in flight', 'busiest 1 s', 'over', 'busiest 1/rate', 'over', 'outside term', 'new owner ms', 'first call ms', 'old owner last call ms'];
  return textTable(
    heads,
    rows.map((r) => [
      r.fault,
      String(r.queuedAtFault),
      String(r.calls),
      `${r.maxInFlight}/${r.concurrency}`,
      `${r.second.busiest}/${r.second.limit}`,
      String(r.second.over),
      `${r.slot.busiest}/${r.slot.limit}`,
      String(r.slot.over),
      String(r.outsideTerm),
      ms(r.newOwnerMs),
      ms(r.firstCallMs),
      ms(r.oldOwnerLastCallMs),
    ]),
  );
}
