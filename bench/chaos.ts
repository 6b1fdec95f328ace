import { parseArgs } from 'node:util';
import { table } from './chaos/ledger.js';
import { limitTable } from './chaos/limits.js';
import { FAULTS, runChaos, type FaultKind } from './chaos/run.js';

// `npm run chaos [-- --duration 20000 --rate 200 --owner-rate 6 --lease 2000 --faults kill-service,kill-nats,term-service,pause-owner,blackhole-owner]`
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: process.env.CHAOS_FAULT_MS ?? '20000' },
    rate: { type: 'string', default: process.env.CHAOS_RATE ?? '200' },
    'owner-rate': { type: 'string', default: process.env.CHAOS_OWNER_RATE ?? '6' },
    lease: { type: 'string', default: process.env.CHAOS_LEASE_MS ?? '2000' },
    faults: { type: 'string', default: process.env.CHAOS_FAULTS ?? FAULTS.join(',') },
    reconcile: { type: 'string', default: process.env.CHAOS_RECONCILE_MS ?? '5000' },
    'service-log': { type: 'string', default: process.env.CHAOS_SERVICE_LOG },
  },
});

function positive(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new RangeError(`--${name} must be a positive integer, got '${value}'`);
  return n;
}

const faults = values.faults.split(',').map((f) => f.trim()) as FaultKind[];
for (const f of faults) if (!FAULTS.includes(f)) throw new RangeError(`--faults: unknown fault '${f}' (known: ${FAULTS.join(', ')})`);

const report = await runChaos({
  faults,
  faultDurationMs: positive('duration', values.duration),
  rate: positive('rate', values.rate),
  ownerRate: positive('owner-rate', values['owner-rate']),
  leaseMs: positive('lease', values.lease),
  reconcileIntervalMs: positive('reconcile', values.reconcile),
  log: (line) => process.stderr.write(`${line}\n`),
  serviceLog: values['service-log'],
  env: { LOG_LEVEL: process.env.CHAOS_LOG_LEVEL ?? (values['service-log'] ? 'warn' : 'error') },
});
process.stdout.write(`${table(report.rows)}\n`);
if (report.limits.length > 0) process.stdout.write(`\nAudnex (in flight: most/limit; busiest window: calls/limit; over: windows above the limit)\n${limitTable(report.limits)}\n`);
process.stdout.write(
  report.ok
    ? `no loss, no duplicate, every status done, nothing left in WEBHOOKS${report.limits.length > 0 ? '; Audnex within its limits, one owner at a time' : ''}\n`
    : 'DEFECTS FOUND\n',
);
process.exit(report.ok ? 0 : 1);
