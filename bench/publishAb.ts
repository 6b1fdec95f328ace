/**
 * `npm run bench:ab`: decides by measurement whether the hand-written publish
 * paths pay for themselves over the nats.js library calls (issue 9, item 3).
 *
 * 1. Ingest: the same load of `webhooks.orders` publishes (the ingest
 *    publisher's headers, a unique `Nats-Msg-Id` each) through `PublishAckMux` (A) and through
 *    `js.publish` on a connection opened with `noAsyncTraces: true` (B).
 * 2. Status writes: the same statuses through `KvWriter.putStatus` (A), and
 *    through `kv.put` (B) and `kv.create` (C) on the `noAsyncTraces` connection.
 *
 * Everything runs against a local nats-server on a free port with a temporary
 * store. The variants alternate (ABAB…) for `BENCH_ROUNDS` rounds of
 * `BENCH_OPS` operations with `BENCH_CONCURRENCY` in flight, because the CPU
 * is shared and noisy; each round prints ops/s, then the medians and ratios.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, headers, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { freePort, startLocalNats } from '../src/nats/localServer.js';
import { PublishAckMux } from '../src/bus/ackMux.js';
import { ensureWebhooksTopology, ensureBuckets } from '../src/bus/topology.js';
import { KvWriter } from '../src/store/kvWriter.js';
import { statusKey, type WebhookStatus } from '../src/store/webhookStatus.js';
import { Buckets, WEBHOOKS_STREAM, WebhookHeaders, webhookSubject } from '../src/bus/names.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const opsPerRound = Number(process.env.BENCH_OPS ?? 10_000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 100);
/** No round may run longer than this, whatever the server does. */
const roundTimeoutMs = 60_000;

const body = new TextEncoder().encode(
  JSON.stringify({
    embeds: [{ author: { name: 'Test Order 1' }, description: 'Product\nTest Product 1\nPrice\n$99.99\nOrder Number\nTEST-1\nEmail\ntest1@example.com' }],
  }),
);
const enc = new TextEncoder();
let serial = 0;

/** The ingest publisher's headers for a fresh delivery id. */
function ingestHeaders(id: string): MsgHdrs {
  const h = headers();
  h.set('Nats-Msg-Id', id);
  h.set('Nats-Expected-Stream', WEBHOOKS_STREAM);
  h.set(WebhookHeaders.Source, 'orders');
  h.set(WebhookHeaders.Id, id);
  h.set(WebhookHeaders.IdOrigin, 'generated');
  h.set(WebhookHeaders.ReceivedAt, new Date().toISOString());
  h.set(WebhookHeaders.ContentType, 'application/json');
  return h;
}

function status(id: string): WebhookStatus {
  return { id, source: 'orders', status: 'done', seq: ++serial, deliveries: 1, result: { bucket: 'orders', key: id }, updatedAt: new Date().toISOString() };
}

/** Runs `op` `count` times with `concurrency` in flight; resolves with ops/s. */
async function measure(op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  const deadline = Date.now() + roundTimeoutMs;
  const worker = async () => {
    while (next < opsPerRound) {
      if (Date.now() > deadline) throw new Error('round timed out');
      await op(next++);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return opsPerRound / ((performance.now() - started) / 1000);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Alternates the variants for `rounds` rounds and prints every figure. */
async function compare(title: string, variants: Record<string, () => (i: number) => Promise<unknown>>, between: () => Promise<void>): Promise<void> {
  const names = Object.keys(variants);
  const results = new Map<string, number[]>(names.map((n) => [n, []]));
  console.log(`\n${title}: ${rounds} rounds × ${opsPerRound} ops, ${concurrency} in flight (after one unmeasured warm-up round)`);
  for (const n of names) {
    await between();
    await measure(variants[n]!());
  }
  for (let r = 1; r <= rounds; r++) {
    const line: string[] = [];
    // Alternate which variant goes first, so neither always runs on a fresh store.
    const order = r % 2 ? names : [...names].reverse();
    for (const n of order) {
      await between();
      const opsPerSec = await measure(variants[n]!());
      results.get(n)!.push(opsPerSec);
      line.push(`${n} ${opsPerSec.toFixed(0).padStart(6)}`);
    }
    console.log(`  round ${r}: ${line.join('   ')} ops/s`);
  }
  const [base, ...others] = names;
  const baseMedian = median(results.get(base!)!);
  console.log(`  median: ${names.map((n) => `${n} ${median(results.get(n)!).toFixed(0)}`).join('   ')} ops/s`);
  for (const o of others) {
    const perRound = results.get(base!)!.map((a, i) => (a / results.get(o)![i]!).toFixed(2));
    console.log(`  ${base}/${o}: median ${(baseMedian / median(results.get(o)!)).toFixed(2)}, per round ${perRound.join(' ')}`);
  }
}

async function main(): Promise<void> {
  const storeDir = await mkdtemp(join(tmpdir(), 'bench-ab-'));
  const nats = await startLocalNats({ storeDir, port: await freePort() });
  const connections: NatsConnection[] = [];
  const closers: (() => void)[] = [];
  try {
    const plain = await connect({ servers: nats.url, name: 'bench-ab-mux' });
    const lean = await connect({ servers: nats.url, name: 'bench-ab-library', noAsyncTraces: true });
    connections.push(plain, lean);
    const jsm = await jetstreamManager(plain);
    await ensureWebhooksTopology(jsm, { duplicateWindowMs: 120_000, maxBytes: 1024 ** 3, maxMsgs: -1, replicas: 1 }, new Map([['orders', { maxDeliver: 5, ackWaitMs: 5000, concurrency: 10 }]]));
    await ensureBuckets(plain, ['orders'], { statusTtlMs: 3_600_000, replicas: 1 });
    const purge = async () => {
      await jsm.streams.purge(WEBHOOKS_STREAM);
      await jsm.streams.purge(`KV_${Buckets.status}`);
    };

    const js = jetstream(lean);
    const mux = new PublishAckMux(plain, 5000);
    const writer = new KvWriter(plain);
    closers.push(() => mux.close(), () => writer.close());
    await compare(
      'ingest publish',
      {
        mux: () => async () => {
          const id = `mux-${++serial}`;
          await mux.publish(webhookSubject('orders'), body, ingestHeaders(id));
        },
        'js.publish': () => async () => {
          const id = `lib-${++serial}`;
          await js.publish(webhookSubject('orders'), body, { msgID: id, expect: { streamName: WEBHOOKS_STREAM }, headers: ingestHeaders(id) });
        },
      },
      purge,
    );

    const kv = await new Kvm(lean).open(Buckets.status);
    await compare(
      'status writes',
      {
        KvWriter: () => (i) => writer.putStatus(status(`w-${i}-${serial}`)),
        'kv.put': () => (i) => {
          const s = status(`p-${i}-${serial}`);
          return kv.put(statusKey(s.source, s.id), enc.encode(JSON.stringify(s)));
        },
        'kv.create': () => (i) => {
          const s = status(`c-${i}-${serial}`);
          return kv.create(statusKey(s.source, s.id), enc.encode(JSON.stringify(s)));
        },
      },
      purge,
    );
  } finally {
    for (const close of closers) close();
    for (const nc of connections) await nc.close();
    await nats.stop();
    await rm(storeDir, { recursive: true, force: true });
  }
}

await main();
