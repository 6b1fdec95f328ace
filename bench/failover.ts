/**
 * Two failovers of `npm run bench:cluster`, each on a fresh three-node
 * cluster (loopback) with NATS_REPLICAS=3, run with today's setting and the
 * one before it so the figures stand side by side:
 * - instance death: a process holding pulled `audiobooks` webhooks is
 *   SIGKILLed; how long until another instance has done every one of them;
 * - leader death: the node leading `WEBHOOKS` is SIGKILLed under steady load
 *   from senders that retry a refused webhook every 250 ms with the same id;
 *   the share of answers that were 503, the longest wait for a 202, and
 *   whether every acknowledged webhook is stored exactly once.
 */
import { Kvm } from '@nats-io/kv';
import { freePort } from '../src/nats/localServer.js';
import type { RunningService } from '../src/service.js';
import { exitOf, startMain } from '../test/helpers/mainProcess.js';
import { storedWebhookIds } from '../test/helpers/jetStreamFixture.js';
import { NatsCluster } from '../test/helpers/natsCluster.js';
import { ORDER_BODY, postWebhook, startTestService } from '../test/helpers/service.js';
import { waitFor } from '../test/helpers/waitFor.js';
import { startMamStub } from '../test/stubs/mam.js';

export interface InstanceDeath {
  ackWait: string;
  held: number;
  /** From the SIGKILL to the last held webhook done by the survivor. */
  allDoneMs: number;
}

/** SIGKILL of a process holding `held` pulled webhooks (MAM hangs them), with `ACK_WAIT=ackWait`. */
export async function instanceDeath(ackWait: string, held = 10): Promise<InstanceDeath> {
  const cluster = await NatsCluster.start();
  const mam = await startMamStub();
  let survivor: RunningService | undefined;
  const env = {
    NATS_URL: cluster.urls,
    NATS_REPLICAS: '3',
    ACK_WAIT: ackWait,
    DEP_OWNER_LEASE_MS: '2000',
    MAM_URL: mam.url,
    MAM_ID: mam.openSession(),
    MAM_RATE: '50',
    RETRY_BACKOFF: '100ms',
    LOG_LEVEL: 'silent',
  };
  mam.server.setMode({ kind: 'hang' });
  const port = await freePort();
  const doomed = startMain({ ...env, PORT: String(port), INSTANCE_ID: 'doomed', INGEST_WORKERS: '1' });
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitFor('the doomed process ready', async () => (await fetch(`${base}/ready`).catch(() => undefined))?.status === 200, { timeoutMs: 60_000 });
    const ids = Array.from({ length: held }, (_, i) => `held-${i}`);
    for (const id of ids) await postWebhook(base, 'audiobooks', { title: 'Project Hail Mary' }, { 'webhook-id': id });
    const { nc, jsm } = await cluster.connect();
    try {
      await waitFor(`all ${held} pulled by the doomed process`, async () => (await jsm.consumers.info('WEBHOOKS', 'audiobooks')).num_ack_pending === held, { timeoutMs: 30_000 });
      survivor = await startTestService({ url: cluster.urls }, { ...env, INSTANCE_ID: 'survivor' }, { edge: false, processing: true });
      mam.server.setMode({ kind: 'ok' });
      doomed.child.kill('SIGKILL');
      await exitOf(doomed.child);
      const killedAt = Date.now();
      const status = await new Kvm(nc).open('webhook-status');
      await waitFor(
        'every held webhook done by the survivor',
        async () => {
          const all = await Promise.all(ids.map(async (id) => (await status.get(`audiobooks.${id}`))?.json<{ status: string }>()));
          return all.every((s) => s?.status === 'done');
        },
        { timeoutMs: 120_000, intervalMs: 50 },
      );
      return { ackWait, held, allDoneMs: Date.now() - killedAt };
    } finally {
      await nc.close();
    }
  } finally {
    doomed.child.kill('SIGKILL');
    await survivor?.stop(1000);
    await mam.close();
    await cluster.dispose();
  }
}

export interface LeaderDeath {
  deadline: string;
  /** Webhooks acknowledged. */
  acked: number;
  /** HTTP answers in all, and how many were 503. */
  answers: number;
  refused: number;
  /** The longest time from a webhook's first attempt to its 202. */
  longestMs: number;
  /** Acknowledged webhooks not stored exactly once. */
  notStoredOnce: number;
}

/** SIGKILL of the `WEBHOOKS` leader under load from three senders, with `INGEST_PUBLISH_DEADLINE=deadline`. */
export async function leaderDeath(deadline: string): Promise<LeaderDeath> {
  const cluster = await NatsCluster.start();
  let service: RunningService | undefined;
  const acked: string[] = [];
  let answers = 0;
  let refused = 0;
  let longestMs = 0;
  let n = 0;
  let sending = true;
  const stopBy = Date.now() + 180_000;
  const sender = async () => {
    while (sending && n < 20_000 && Date.now() < stopBy) {
      const id = `leader-loss-${n++}`;
      const first = Date.now();
      // A sender retries a refused webhook every 250 ms with the same id, a bounded number of times.
      for (let attempt = 0; attempt < 400 && Date.now() < stopBy; attempt++) {
        const res = await postWebhook(service!.url, 'orders', ORDER_BODY, { 'webhook-id': id });
        answers++;
        if (res.status === 202) {
          acked.push(id);
          longestMs = Math.max(longestMs, Date.now() - first);
          break;
        }
        refused++;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  };
  let senders: Promise<void>[] = [];
  try {
    service = await startTestService({ url: cluster.urls }, { NATS_REPLICAS: '3', INGEST_PUBLISH_DEADLINE: deadline, LOG_LEVEL: 'silent' });
    senders = [sender(), sender(), sender()];
    await waitFor('100 webhooks stored', () => acked.length >= 100, { timeoutMs: 30_000 });
    const leader = await cluster.streamLeader('WEBHOOKS');
    await cluster.kill(leader);
    const beforeKill = acked.length;
    await waitFor('300 more stored with the leader gone', () => acked.length >= beforeKill + 300, { timeoutMs: 120_000 });
    sending = false;
    await Promise.all(senders);
    const { nc, jsm } = await cluster.connect();
    try {
      const stored = await storedWebhookIds(jsm);
      const notStoredOnce = acked.filter((id) => stored.get(id) !== 1).length;
      return { deadline, acked: acked.length, answers, refused, longestMs, notStoredOnce };
    } finally {
      await nc.close();
    }
  } finally {
    sending = false;
    await Promise.all(senders);
    await service?.stop(1000);
    await cluster.dispose();
  }
}
