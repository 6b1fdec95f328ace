import { connect } from '@nats-io/transport-node';
import { defective, tally, type FaultFigures } from './ledger.js';
import { overLimit, type LimitFigures } from './limits.js';
import { ORDER_WEBHOOKS, sendWebhooks } from './load.js';
import { OWNER_FAULTS, runOwnerFaults, type OwnerFaultKind } from './ownerFaults.js';
import { TestNats } from '../../test/helpers/natsServer.js';
import { ChaosService } from './processes.js';
import { settle } from './settle.js';

/** Faults that strike the one service or its nats-server. */
export const SERVICE_FAULTS = ['kill-service', 'kill-nats', 'term-service'] as const;

type ServiceFaultKind = (typeof SERVICE_FAULTS)[number];

/** The faults, injected in turn under load. */
export const FAULTS = [...SERVICE_FAULTS, ...OWNER_FAULTS] as const;

/** One kind of fault. */
export type FaultKind = (typeof FAULTS)[number];

/** Options of {@link runChaos}. */
export interface ChaosOptions {
  /**
   * Faults to inject: the service faults first, then the ownership faults,
   * each group in the order given here.
   * @default FAULTS
   */
  faults?: readonly FaultKind[];
  /**
   * How long webhooks are sent around each fault (a service fault comes half-way).
   * @default 20000
   */
  faultDurationMs?: number;
  /**
   * Orders per second (service faults).
   * @default 200
   */
  rate?: number;
  /**
   * `audiobooks` webhooks per second (ownership faults).
   * @default 6
   */
  ownerRate?: number;
  /**
   * `DEP_OWNER_LEASE_MS` of the instances in the ownership faults.
   * @default 2000
   */
  leaseMs?: number;
  /**
   * How long to wait after each fault for processing (and reconciliation) to finish.
   * @default 90000
   */
  settleTimeoutMs?: number;
  /**
   * The service's `RECONCILE_INTERVAL_MS`.
   * @default 5000
   */
  reconcileIntervalMs?: number;
  /**
   * More environment for the service (LOG_LEVEL, INGEST_WORKERS…).
   * @default { LOG_LEVEL: 'error' }
   */
  env?: NodeJS.ProcessEnv;
  /** Progress lines. */
  log?: (line: string) => void;
  /** A file the service's log lines are appended to. */
  serviceLog?: string;
}

/** The figures of every fault and whether all of them are clean. */
export interface ChaosReport {
  /** The ledger of every fault. */
  rows: FaultFigures[];
  /** What the Audnex stub saw in each ownership fault. */
  limits: LimitFigures[];
  ok: boolean;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function inject(fault: ServiceFaultKind, service: ChaosService, nats: TestNats): Promise<void> {
  switch (fault) {
    case 'kill-service':
      await service.kill();
      return service.start();
    case 'kill-nats':
      await nats.kill();
      return nats.restart();
    case 'term-service':
      await service.terminate();
      return service.start();
  }
}

/**
 * Against real processes on loopback: a nats-server on its own port and
 * temporary store, and the service (`src/main.ts`) as its own process group.
 * For each fault it sends unique orders for `faultDurationMs`, injects the
 * fault half-way (SIGKILL of the service group, SIGKILL of nats-server,
 * SIGTERM of the service; each restarted), waits for processing and counts
 * what became of every webhook sent.
 */
async function runServiceFaults(faults: readonly ServiceFaultKind[], o: ChaosOptions): Promise<FaultFigures[]> {
  const faultDurationMs = o.faultDurationMs ?? 20_000;
  const rate = o.rate ?? 200;
  const log = o.log ?? (() => undefined);
  const nats = await TestNats.start();
  const rows: FaultFigures[] = [];
  let service: ChaosService | undefined;
  try {
    service = await ChaosService.create({
      LOG_LEVEL: 'error',
      ...o.env,
      NATS_URL: nats.url,
      RECONCILE_INTERVAL_MS: String(o.reconcileIntervalMs ?? 5000),
    }, o.serviceLog);
    await service.start();
    const run = Date.now().toString(36);
    for (const [i, fault] of faults.entries()) {
      log(`${fault}: sending ${rate}/s for ${faultDurationMs} ms, fault half-way`);
      const sending = sendWebhooks({ urls: [service.url], webhooks: ORDER_WEBHOOKS, prefix: `chaos-${run}-${i}`, rate, durationMs: faultDurationMs });
      await pause(faultDurationMs / 2);
      await inject(fault, service, nats);
      const load = await sending;
      const nc = await connect({ servers: nats.url });
      try {
        await settle(nc, ORDER_WEBHOOKS.source, o.settleTimeoutMs ?? 90_000);
        const figures = await tally(nc, fault, ORDER_WEBHOOKS, load);
        log(`${fault}: ${JSON.stringify(figures)}`);
        rows.push(figures);
      } finally {
        await nc.close();
      }
    }
  } finally {
    await service?.terminate(30_000).catch(() => undefined);
    await nats.dispose().catch(() => undefined);
  }
  return rows;
}

const isServiceFault = (f: FaultKind): f is ServiceFaultKind => (SERVICE_FAULTS as readonly string[]).includes(f);
const isOwnerFault = (f: FaultKind): f is OwnerFaultKind => (OWNER_FAULTS as readonly string[]).includes(f);

/**
 * Runs the service faults (one service, see above) and then the ownership
 * faults (two instances, see {@link runOwnerFaults}), and tells whether
 * every one of them kept every acknowledged webhook exactly once and, for
 * the ownership faults, Audnex within its limits with one owner at a time.
 */
export async function runChaos(o: ChaosOptions = {}): Promise<ChaosReport> {
  const faults = o.faults ?? FAULTS;
  const serviceFaults = faults.filter(isServiceFault);
  const ownerFaults = faults.filter(isOwnerFault);
  const rows = serviceFaults.length > 0 ? await runServiceFaults(serviceFaults, o) : [];
  let limits: LimitFigures[] = [];
  if (ownerFaults.length > 0) {
    const owner = await runOwnerFaults({
      faults: ownerFaults,
      durationMs: o.faultDurationMs,
      rate: o.ownerRate,
      leaseMs: o.leaseMs,
      settleTimeoutMs: o.settleTimeoutMs,
      env: o.env,
      log: o.log,
      serviceLog: o.serviceLog,
    });
    rows.push(...owner.rows);
    limits = owner.limits;
  }
  const ok = rows.length === faults.length && !rows.some(defective) && limits.length === ownerFaults.length && !limits.some(overLimit);
  return { rows, limits, ok };
}
