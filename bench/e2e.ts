/**
 * `npm run bench:e2e`: 20,000 `orders` webhooks (unique order numbers) at
 * 100 connections against the real service on a real nats-server, while it
 * processes them. Prints the ingest rate, the drain rate (orders stored per
 * second), ingest-to-done latency p50/p99, and checks stored = acknowledged.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { freePort, startLocalNats } from '../src/nats/localServer.js';
import { costLines, perWebhook, sampleCost } from './cost.js';
import { spawnUntil, stopChild, waitAllReady } from './harness.js';

const total = Number(process.env.BENCH_WEBHOOKS ?? 20_000);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 100);
const root = fileURLToPath(new URL('..', import.meta.url));

const storeDir = await mkdtemp(join(tmpdir(), 'bench-e2e-'));
const monitorPort = await freePort();
const nats = await startLocalNats({ storeDir, configFile: join(root, 'nats.conf'), extraArgs: ['-m', String(monitorPort)] });
const monitorUrl = `http://127.0.0.1:${monitorPort}`;
const nc = await connect({ servers: nats.url });
const jsm = await jetstreamManager(nc);
const port = await freePort();
// One client IP sends everything: the per-IP limit is off, as for any load test.
const env: Record<string, string> = { NATS_URL: nats.url, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', INGEST_RATE_PER_IP: '0' };
for (const k of ['INGEST_WORKERS', 'ORDERS_CONCURRENCY', 'INGEST_RATE_PER_IP']) if (process.env[k]) env[k] = process.env[k]!;
const svc = await spawnUntil('node', ['--max-semi-space-size=64', '--import', 'tsx', join(root, 'src/main.ts')], env, null);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

try {
  await waitAllReady(port);
  const processes = { service: svc.child.pid!, nats: nats.pid };
  const costBefore = await sampleCost(processes, monitorUrl, jsm);
  let n = 0;
  const acked = new Set<string>();
  const refusals = new Map<string, number>();
  let firstStored = 0;
  let lastStored = 0;
  let stored = 0;
  const started = Date.now();
  const sample = async () => {
    const s = (await jsm.streams.info('KV_orders').catch(() => undefined))?.state.messages ?? 0;
    if (s > stored) {
      if (stored === 0) firstStored = Date.now();
      lastStored = Date.now();
      stored = s;
    }
  };
  // A sample never rejects (stream info errors count as no progress).
  const poll = setInterval(() => void sample(), 50);

  const load = await autocannon({
    url: `http://127.0.0.1:${port}/webhooks/orders`,
    connections,
    amount: total,
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => {
          const i = n++;
          return {
            ...req,
            headers: { 'content-type': 'application/json', 'webhook-id': `bench-${i}` },
            body: JSON.stringify({ embeds: [{ author: { name: `Order ${i}` }, description: `Product\nBench Product\nPrice\n$99.99\nOrder Number\nBENCH-${i}\nEmail\nbench${i}@example.com` }] }),
          };
        },
        onResponse: (status: number, body: string) => {
          if (status === 202) acked.add((JSON.parse(body) as { id: string }).id);
          else refusals.set(body, (refusals.get(body) ?? 0) + 1);
        },
      },
    ],
  });
  const ingestDone = Date.now();
  const storedAtIngestDone = stored;
  while (stored < acked.size && Date.now() - ingestDone < 120_000) await new Promise((r) => setTimeout(r, 50));
  clearInterval(poll);
  const cost = perWebhook(costBefore, await sampleCost(processes, monitorUrl, jsm), acked.size);

  // Read every stored order back: latency from receivedAt to processedAt, and the ids.
  const latencies: number[] = [];
  const storedIds = new Set<string>();
  const consumer = await jetstream(nc).consumers.get('KV_orders');
  const messages = await consumer.fetch({ max_messages: stored, expires: 10_000 });
  for await (const m of messages) {
    const v = m.json<{ webhookId: string; receivedAt: string; processedAt: string }>();
    storedIds.add(v.webhookId);
    latencies.push(Date.parse(v.processedAt) - Date.parse(v.receivedAt));
    if (storedIds.size >= stored) break;
  }
  latencies.sort((a, b) => a - b);
  const missing = [...acked].filter((id) => !storedIds.has(id)).length;
  const ingestRate = load.requests.average;
  const drainRate = stored / Math.max(0.001, (lastStored - firstStored) / 1000);

  console.log(`\nbench:e2e  ${total} orders webhooks, ${connections} connections\n`);
  console.log(`ingest   ${ingestRate.toFixed(0)} webhooks/s  (2xx ${load['2xx']}, non-2xx ${load.non2xx}, errors ${load.errors})`);
  console.log(`drain    ${drainRate.toFixed(0)} orders stored/s  (target >= 3000)`);
  if (lastStored > ingestDone + 500) {
    const after = (stored - storedAtIngestDone) / ((lastStored - ingestDone) / 1000);
    console.log(`         ${after.toFixed(0)} orders stored/s once ingest had stopped (backlog ${acked.size - storedAtIngestDone})`);
  }
  console.log(`latency  ingest-to-done p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms`);
  console.log(`total    ${((lastStored - started) / 1000).toFixed(1)} s from first request to last order stored`);
  for (const line of costLines(cost)) console.log(line);
  console.log(`stored ${storedIds.size} = acknowledged ${acked.size}: ${missing === 0 && storedIds.size === acked.size ? 'yes, zero loss' : `NO (${missing} missing)`}`);
  for (const [body, count] of refusals) console.log(`refused ${count}x: ${body}`);
  if (missing > 0) process.exitCode = 1;
} finally {
  await stopChild(svc.child);
  await nc.close();
  await nats.stop();
  await rm(storeDir, { recursive: true, force: true });
}
