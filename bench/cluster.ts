/**
 * `npm run bench:cluster`: on a local three-node JetStream cluster (loopback),
 * ingest and end-to-end drain of BENCH_WEBHOOKS (20,000) `orders` webhooks
 * with one, two and three service instances at NATS_REPLICAS=3, and one
 * instance at NATS_REPLICAS=1, reported as ratios (a shared 2-core machine
 * makes absolute speed meaningless). Then the failover of a dependency owner:
 * two instances share Audnex (a local stub); the owner is cut off from NATS
 * without releasing its lease, and the time until the new owner serves a
 * call is measured, with the webhooks that needed more than one delivery.
 * Last, the two failovers of bench/failover.ts: an instance's death (its
 * pulled webhooks redelivered after ACK_WAIT) and the `WEBHOOKS` leader's
 * death as senders see it, each with today's setting and the one before.
 * BENCH_ONLY=throughput, owner, instance or leader runs one part.
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { freePort } from '../src/nats/localServer.js';
import type { RunningService } from '../src/service.js';
import { NatsCluster } from '../test/helpers/natsCluster.js';
import { audnexLookups, only } from '../test/helpers/pipelines.js';
import { postWebhook, startTestService } from '../test/helpers/service.js';
import { audnexStubEnv } from '../test/helpers/testEnv.js';
import { waitFor } from '../test/helpers/waitFor.js';
import { PROJECT_HAIL_MARY, startAudnexStub } from '../test/stubs/audnex.js';
import { instanceDeath, leaderDeath } from './failover.js';
import { spawnUntil, stopChild, waitAllReady, watchStoredOrders } from './harness.js';

const total = Number(process.env.BENCH_WEBHOOKS ?? 20_000);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 60);
const root = fileURLToPath(new URL('..', import.meta.url));
const orderBody = (i: number) =>
  JSON.stringify({ embeds: [{ author: { name: `Order ${i}` }, description: `Product\nBench Product\nPrice\n$99.99\nOrder Number\nBENCH-${i}\nEmail\nbench${i}@example.com` }] });

interface Run {
  label: string;
  ingestPerS: number;
  drainPerS: number;
  acked: number;
  stored: number;
}

/** One scenario on a fresh cluster: `instances` processes at `replicas`, `total` orders spread over them. */
async function scenario(instances: number, replicas: number): Promise<Run> {
  const cluster = await NatsCluster.start();
  const children: Awaited<ReturnType<typeof spawnUntil>>['child'][] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < instances; i++) {
      const port = await freePort();
      ports.push(port);
      const env = {
        NATS_URL: cluster.urls,
        NATS_REPLICAS: String(replicas),
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        INGEST_RATE_PER_IP: '0',
        INGEST_WORKERS: '1',
        INSTANCE_ID: `bench-${i + 1}`,
      };
      children.push((await spawnUntil('node', ['--max-semi-space-size=64', '--import', 'tsx', join(root, 'src/main.ts')], env, null)).child);
    }
    for (const p of ports) await waitAllReady(p);
    const nc = await connect({ servers: cluster.urls });
    const jsm = await jetstreamManager(nc);
    const progress = watchStoredOrders(jsm, 100);
    let acked = 0;
    let n = 0;
    const started = Date.now();
    const loads = ports.map((port) =>
      autocannon({
        url: `http://127.0.0.1:${port}/webhooks/orders`,
        connections: Math.max(1, Math.floor(connections / instances)),
        amount: Math.floor(total / instances),
        requests: [
          {
            method: 'POST',
            setupRequest: (req: autocannon.Request) => {
              const i = n++;
              return { ...req, headers: { 'content-type': 'application/json', 'webhook-id': `bench-${i}` }, body: orderBody(i) };
            },
            onResponse: (status: number) => {
              if (status === 202) acked++;
            },
          },
        ],
      }),
    );
    await Promise.all(loads);
    const ingestS = (Date.now() - started) / 1000;
    const deadline = Date.now() + 180_000;
    while (progress.stored < acked && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    progress.stop();
    await nc.close();
    const { stored } = progress;
    const drainS = Math.max(0.001, (progress.lastAt - Math.min(progress.firstAt, started)) / 1000);
    return { label: `${instances} instance(s), NATS_REPLICAS=${replicas}`, ingestPerS: acked / ingestS, drainPerS: stored / drainS, acked, stored };
  } finally {
    await Promise.all(children.map((c) => stopChild(c)));
    await cluster.dispose();
  }
}

/** Cuts the Audnex owner off among two instances and measures the handover. */
async function failover(): Promise<{ leaseMs: number; takeoverMs: number; firstCallMs: number; lastOldCallMs: number; retried: number; webhooks: number }> {
  const leaseMs = 2000;
  const cluster = await NatsCluster.start();
  const stub = await startAudnexStub();
  const services: RunningService[] = [];
  try {
    const env = audnexStubEnv(stub.url, { AUDNEX_RATE: '20', AUDNEX_BURST: '2', DEP_OWNER_LEASE_MS: String(leaseMs), MAX_DELIVER: '50', INGEST_WORKERS: '1', LOG_LEVEL: 'silent' });
    for (const id of ['fo-a', 'fo-b']) {
      services.push(await startTestService({ url: cluster.urls }, { ...env, INSTANCE_ID: id }, { edge: true, processing: true }, only(audnexLookups('orders', PROJECT_HAIL_MARY.asin))));
    }
    const owner = await waitFor('an owner', () => services.find((s) => s.ownership!.isOwner('audnex')), { timeoutMs: 15_000 });
    const survivor = services.find((s) => s !== owner)!;
    const webhooks = 40;
    for (let i = 0; i < webhooks; i++) await postWebhook(survivor.url, 'orders', JSON.parse(orderBody(i)), { 'webhook-id': `fo-${i}` });
    await waitFor('some calls', () => stub.calls.length >= 5, { timeoutMs: 15_000 });
    const cutAt = Date.now();
    await owner.link.nc!.close();
    await waitFor('a new owner', () => survivor.ownership!.isOwner('audnex'), { timeoutMs: leaseMs * 5 });
    // When it took the lease, as it wrote in dependency-owners (the poll above is coarser).
    const survivorId = survivor === services[0] ? 'fo-a' : 'fo-b';
    const since = await waitFor('the new lease seen', () => {
      const o = survivor.ownership!.owner('audnex');
      return o?.instance === survivorId ? o.since : undefined;
    });
    const takeoverMs = Date.parse(since) - cutAt;
    // Calls before the takeover are the old owner's: it dispatches until half a lease after its last renewal.
    const fromNewOwner = () => stub.calls.filter((c) => c.startedAt >= cutAt + takeoverMs);
    await waitFor('a call from the new owner', () => fromNewOwner().length > 0, { timeoutMs: 30_000 });
    const firstCallMs = Math.min(...fromNewOwner().map((c) => c.startedAt)) - cutAt;
    const lastOldCallMs = Math.max(...stub.calls.filter((c) => c.startedAt < cutAt + takeoverMs).map((c) => c.startedAt)) - cutAt;
    let retried = 0;
    for (let i = 0; i < webhooks; i++) {
      const s = await waitFor(`fo-${i} done`, async () => {
        const r = await fetch(`${survivor.url}/webhooks/orders/fo-${i}`);
        const j = r.status === 200 ? ((await r.json()) as { status: string; deliveries: number }) : undefined;
        return j?.status === 'done' ? j : undefined;
      }, { timeoutMs: 90_000, intervalMs: 200 });
      if (s.deliveries > 1) retried++;
    }
    return { leaseMs, takeoverMs, firstCallMs, lastOldCallMs, retried, webhooks };
  } finally {
    await Promise.allSettled(services.map((s) => s.stop(1000)));
    await stub.close();
    await cluster.dispose();
  }
}

const runs: Run[] = [];
const benchOnly = process.env.BENCH_ONLY;
const part = (name: string) => benchOnly === undefined || benchOnly === name;
const scenarios = part('throughput') ? ([[1, 1], [1, 3], [2, 3], [3, 3]] as const) : [];
for (const [instances, replicas] of scenarios) {
  const r = await scenario(instances, replicas);
  runs.push(r);
  console.log(`${r.label.padEnd(32)} ingest ${r.ingestPerS.toFixed(0).padStart(6)}/s  drain ${r.drainPerS.toFixed(0).padStart(6)}/s  stored ${r.stored} of ${r.acked} acknowledged`);
}
if (runs.length === 4) {
  const [r1, one, two, three] = runs as [Run, Run, Run, Run];
  console.log(`\nbench:cluster  ${total} orders per run, three-node cluster on loopback\n`);
  console.log('run                               ingest vs 1 inst.  drain vs 1 inst.');
  for (const r of [one, two, three]) console.log(`${r.label.padEnd(32)}  ${(r.ingestPerS / one.ingestPerS).toFixed(2).padStart(8)}    ${(r.drainPerS / one.drainPerS).toFixed(2).padStart(8)}`);
  console.log(`NATS_REPLICAS=3 vs 1 (one instance): ingest ${(one.ingestPerS / r1.ingestPerS).toFixed(2)}, drain ${(one.drainPerS / r1.drainPerS).toFixed(2)}`);
  if (runs.some((r) => r.stored !== r.acked)) process.exitCode = 1;
}

if (part('owner')) {
  const f = await failover();
  console.log(
    `\nowner failover (DEP_OWNER_LEASE_MS=${f.leaseMs}): old owner's last call ${f.lastOldCallMs} ms after the cut, new owner after ${f.takeoverMs} ms, its first call ${f.firstCallMs} ms after the cut; ${f.retried} of ${f.webhooks} webhooks needed more than one delivery`,
  );
}
if (part('instance')) {
  console.log('\ninstance death: SIGKILL of a process holding pulled webhooks, until another has done them all');
  // 5s is today's default ACK_WAIT; 30s was the consumers' ack_wait before it.
  for (const ackWait of ['5s', '30s']) {
    const r = await instanceDeath(ackWait);
    console.log(`  ACK_WAIT=${r.ackWait.padEnd(4)} ${r.held} held webhooks all done ${(r.allDoneMs / 1000).toFixed(1)} s after the SIGKILL`);
  }
}
if (part('leader')) {
  console.log('\nleader death: SIGKILL of the WEBHOOKS leader under load, senders retrying every 250 ms with the same id');
  // 8s is today's default INGEST_PUBLISH_DEADLINE; 0ms answers 503 at once, as the edge did before it retried.
  for (const deadline of ['8s', '0ms']) {
    const r = await leaderDeath(deadline);
    const share = ((100 * r.refused) / Math.max(1, r.answers)).toFixed(1);
    console.log(
      `  INGEST_PUBLISH_DEADLINE=${r.deadline.padEnd(3)} ${r.refused} of ${r.answers} answers 503 (${share} %), longest wait for a 202 ${(r.longestMs / 1000).toFixed(1)} s; ${r.acked} acknowledged, ${r.notStoredOnce} not stored exactly once`,
    );
    if (r.notStoredOnce > 0) process.exitCode = 1;
  }
}
process.exit();
