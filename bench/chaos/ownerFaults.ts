import { tally, type FaultFigures } from './ledger.js';
import { limitFigures, type DependencyLimits, type LimitFigures } from './limits.js';
import { AUDIOBOOK_WEBHOOKS, sendWebhooks } from './load.js';
import { OwnerCluster, type OwnerInstance } from './ownerCluster.js';
import { OwnerTimeline } from './ownerTimeline.js';
import { settle } from './settle.js';
import { waitFor } from '../../test/helpers/waitFor.js';

/** Faults that strike the instance owning Audnex, among several instances. */
export const OWNER_FAULTS = ['pause-owner', 'blackhole-owner'] as const;

/** One of {@link OWNER_FAULTS}. */
export type OwnerFaultKind = (typeof OWNER_FAULTS)[number];

/** Audnex's limits in the ownership faults: small, so that a second owner's calls would stand out. */
export const CHAOS_AUDNEX_LIMITS: DependencyLimits = { rate: 4, burst: 1, concurrency: 1 };

/** Options of {@link runOwnerFaults}. */
export interface OwnerFaultOptions {
  /** Faults to inject, in this order. */
  faults: readonly OwnerFaultKind[];
  /**
   * How long `audiobooks` webhooks are sent for each fault.
   * @default 20000
   */
  durationMs?: number;
  /**
   * `audiobooks` webhooks per second: each needs one Audnex lookup.
   * @default 6 (above Audnex's 4 calls/s, so lookups queue up at its owner)
   */
  rate?: number;
  /**
   * `DEP_OWNER_LEASE_MS` of every instance; each fault lasts three times as long.
   * @default 2000
   */
  leaseMs?: number;
  /**
   * How long to wait after each fault for processing to finish.
   * @default 90000
   */
  settleTimeoutMs?: number;
  /** More environment for the instances (LOG_LEVEL…). */
  env?: NodeJS.ProcessEnv;
  /** Progress lines. */
  log?: (line: string) => void;
  /** A file the instances' log lines are appended to. */
  serviceLog?: string;
}

/** The ledger and the dependency's figures of each fault. */
export interface OwnerFaultReport {
  rows: FaultFigures[];
  limits: LimitFigures[];
}

/**
 * Lookups waiting in the owner's Audnex mailbox when the fault strikes:
 * more than it may send in the half lease it can still count itself owner
 * (rate × lease / 2, plus the burst), so some are left for it to refuse.
 */
function queuedAtFault(leaseMs: number): number {
  return Math.ceil((CHAOS_AUDNEX_LIMITS.rate * leaseMs) / 2000) + CHAOS_AUDNEX_LIMITS.burst + 1;
}

/** Audnex's queue on `owner` as its `/actors` reports it. */
async function audnexQueue(owner: OwnerInstance): Promise<number> {
  const view = (await (await fetch(`${owner.service.url}/actors`)).json()) as { dependencies: { name: string; instance?: string; queueLength?: number }[] };
  return view.dependencies.find((d) => d.name === 'audnex' && d.instance === owner.id)?.queueLength ?? 0;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Strikes `owner` and returns what undoes the fault. */
function strike(fault: OwnerFaultKind, owner: OwnerInstance): () => void {
  switch (fault) {
    case 'pause-owner':
      owner.service.pause();
      return () => owner.service.resume();
    case 'blackhole-owner':
      owner.proxy.blackhole();
      return () => owner.proxy.restore();
  }
}

async function runOne(cluster: OwnerCluster, fault: OwnerFaultKind, prefix: string, o: Required<Pick<OwnerFaultOptions, 'durationMs' | 'rate' | 'leaseMs' | 'settleTimeoutMs'>>, log: (line: string) => void) {
  const owner = await cluster.ownerOf('audnex');
  const timeline = await OwnerTimeline.watch(cluster.nc, 'audnex');
  try {
    cluster.audnex.clearRecords();
    const mamBefore = { searches: cluster.mam.searches.length, logins: cluster.mam.loginAttempts };
    const holdMs = 3 * o.leaseMs;
    const queue = queuedAtFault(o.leaseMs);
    log(`${fault}: sending ${o.rate} audiobooks/s for ${o.durationMs} ms; ${owner.id} owns Audnex and is struck for ${holdMs} ms once ${queue} lookups wait there`);
    const sending = sendWebhooks({ urls: cluster.urls, webhooks: AUDIOBOOK_WEBHOOKS, prefix, rate: o.rate, durationMs: o.durationMs });
    // Struck once lookups queue up at the owner (or, failing that, half-way through the load).
    const queued = await waitFor('lookups queued at the owner', async () => {
      const n = await audnexQueue(owner).catch(() => 0);
      return n >= queue ? n : undefined;
    }, { timeoutMs: o.durationMs / 2, intervalMs: 20 }).catch(() => audnexQueue(owner).catch(() => 0));
    const faultAt = Date.now();
    const heal = strike(fault, owner);
    try {
      // The fault itself: the owner stays paused or cut off this long.
      await pause(holdMs);
    } finally {
      heal();
    }
    const load = await sending;
    await settle(cluster.nc, AUDIOBOOK_WEBHOOKS.source, o.settleTimeoutMs);
    await cluster.ready();
    const ledger = await tally(cluster.nc, fault, AUDIOBOOK_WEBHOOKS, load);
    const limits = limitFigures({
      fault,
      limits: CHAOS_AUDNEX_LIMITS,
      calls: cluster.audnex.calls,
      maxInFlight: cluster.audnex.maxConcurrency,
      writes: timeline.writes,
      oldOwner: owner.id,
      faultAt,
      queuedAtFault: queued,
    });
    log(`${fault}: ${JSON.stringify(ledger)}`);
    log(`${fault}: ${JSON.stringify(limits)}`);
    const searches = cluster.mam.searches.slice(mamBefore.searches);
    log(`${fault}: MAM saw ${searches.length} searches, ${searches.filter((x) => x.status !== 200).length} refused, ${cluster.mam.loginAttempts - mamBefore.logins} logins`);
    return { ledger, limits };
  } finally {
    timeline.stop();
  }
}

/**
 * Against real processes on loopback ({@link OwnerCluster}: two instances
 * of `src/main.ts` sharing one nats-server, each through its own proxy,
 * Audnex at {@link CHAOS_AUDNEX_LIMITS}): for each fault it sends unique
 * `audiobooks` webhooks to the instances in turn, and once lookups queue
 * at the instance owning Audnex strikes it for three leases: `pause-owner`
 * SIGSTOPs its process group, then SIGCONTs it; `blackhole-owner` stops its
 * proxy forwarding (nothing closed) while it still reaches Audnex, then
 * forwards again. It waits for processing and reports what became of every
 * webhook and what the Audnex stub saw.
 */
export async function runOwnerFaults(o: OwnerFaultOptions): Promise<OwnerFaultReport> {
  const log = o.log ?? (() => undefined);
  const leaseMs = o.leaseMs ?? 2000;
  const settings = { durationMs: o.durationMs ?? 20_000, rate: o.rate ?? 6, leaseMs, settleTimeoutMs: o.settleTimeoutMs ?? 90_000 };
  const cluster = await OwnerCluster.start({ leaseMs, audnex: CHAOS_AUDNEX_LIMITS, env: o.env, serviceLog: o.serviceLog });
  const report: OwnerFaultReport = { rows: [], limits: [] };
  try {
    const run = Date.now().toString(36);
    for (const [i, fault] of o.faults.entries()) {
      const { ledger, limits } = await runOne(cluster, fault, `owner-${run}-${i}`, settings, log);
      report.rows.push(ledger);
      report.limits.push(limits);
    }
  } finally {
    await cluster.dispose();
  }
  return report;
}
