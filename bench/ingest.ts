/**
 * `npm run bench:ingest`: autocannon (100 connections, 10 s, the README's
 * `orders` body) against the real service's HTTP edge (`SERVICE_ROLE=edge`:
 * nothing consumes meanwhile) on a real nats-server, and against
 * a bare Koa route that reads, parses and validates without publishing.
 * Prints requests/s, p50/p99, non-2xx, stored vs 2xx, and the ratio.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { freePort, startLocalNats } from '../src/nats/localServer.js';
import { costLines, perWebhook, sampleCost } from './cost.js';
import { load, row, spawnUntil, stopChild, waitAllReady } from './harness.js';

const durationS = Number(process.env.BENCH_DURATION_S ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 100);
const body = JSON.stringify({
  embeds: [
    {
      author: { name: 'Test Order 1' },
      description: 'Product\nTest Product 1\nPrice\n$99.99\nOrder Number\nTEST-1\nEmail\ntest1@example.com',
    },
  ],
});
const root = fileURLToPath(new URL('..', import.meta.url));

const storeDir = await mkdtemp(join(tmpdir(), 'bench-ingest-'));
const monitorPort = await freePort();
const nats = await startLocalNats({ storeDir, configFile: join(root, 'nats.conf'), extraArgs: ['-m', String(monitorPort)] });
const monitorUrl = `http://127.0.0.1:${monitorPort}`;
const nc = await connect({ servers: nats.url });
const jsm = await jetstreamManager(nc);

try {
  // Baseline first, so the service's run does not warm the page cache for it.
  const bare = await spawnUntil('node', ['--import', 'tsx', join(root, 'bench/bareServer.ts')], {}, /(http:\/\/\S+)/);
  const bareUrl = `${bare.match[1]}/webhooks/orders`;
  await load(bareUrl, body, { connections, durationS: 2 });
  const bareResult = await load(bareUrl, body, { connections, durationS });
  await stopChild(bare.child);

  const port = await freePort();
  const svc = await spawnUntil(
    'node',
    ['--max-semi-space-size=64', '--import', 'tsx', join(root, 'src/main.ts')],
    { NATS_URL: nats.url, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', INGEST_RATE_PER_IP: '0', SERVICE_ROLE: 'edge', ...pickEnv() },
    /msg/,
  );
  const serviceUrl = `http://127.0.0.1:${port}/webhooks/orders`;
  await waitAllReady(port);
  await load(serviceUrl, body, { connections, durationS: 2 });
  const before = (await jsm.streams.info('WEBHOOKS')).state;
  const processes = { service: svc.child.pid!, nats: nats.pid };
  const costBefore = await sampleCost(processes, monitorUrl, jsm);
  const ingest = await load(serviceUrl, body, { connections, durationS });
  const cost = perWebhook(costBefore, await sampleCost(processes, monitorUrl, jsm), ingest.ok2xx);
  await stopChild(svc.child);
  const after = (await jsm.streams.info('WEBHOOKS')).state;
  // Nothing consumes or deletes during the run, so every sequence in
  // (before.last_seq, after.last_seq] is still stored: an acknowledged
  // sequence in that range with no deletions is a stored webhook.
  const acked = new Set(ingest.seqs);
  const inRange = [...acked].filter((s) => s > before.last_seq && s <= after.last_seq).length;
  const stored = after.last_seq - before.last_seq;
  const ackedStored = after.num_deleted === before.num_deleted ? inRange : 0;

  const ratio = ingest.requestsPerSec / bareResult.requestsPerSec;
  console.log(`\nbench:ingest  ${connections} connections, ${durationS} s, ${Buffer.byteLength(body)}-byte orders body\n`);
  console.log(row('bare', bareResult));
  console.log(row('ingest', ingest));
  const lossFree = ackedStored === ingest.ok2xx && acked.size === ingest.ok2xx;
  console.log(`\nstored (acknowledged) ${ackedStored}  =  2xx ${ingest.ok2xx}: ${lossFree ? 'yes, zero loss' : 'NO'}`);
  console.log(`stored in all ${stored} (${stored - ackedStored} more were stored for requests cut off when a load run stopped)`);
  console.log(`ratio ingest/bare ${ratio.toFixed(2)} (target >= 0.5), ingest p99 ${ingest.p99Ms} ms (target <= 25 ms)`);
  for (const line of costLines(cost)) console.log(line);
  if (!lossFree) process.exitCode = 1;
} finally {
  await nc.close();
  await nats.stop();
  await rm(storeDir, { recursive: true, force: true });
}

function pickEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['INGEST_WORKERS', 'INGEST_RATE_PER_IP']) if (process.env[k]) out[k] = process.env[k]!;
  return out;
}
