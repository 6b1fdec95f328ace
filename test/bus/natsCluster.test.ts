import { expect } from 'chai';
import { NatsCluster } from '../helpers/natsCluster.js';
import { ORDER_BODY, postWebhook, startTestService } from '../helpers/service.js';
import { storedWebhookIds } from '../helpers/jetStreamFixture.js';
import { waitFor } from '../helpers/waitFor.js';
import type { RunningService } from '../../src/service.js';

const STREAMS = ['WEBHOOKS', 'DEAD_LETTERS', 'ADVISORIES'];
const BUCKETS = ['webhook-status', 'orders', 'audiobooks', 'pages', 'sessions', 'dependency-owners', 'dependency-state'];

describe('the service on a three-node NATS cluster', function () {
  // Leader elections and reconnects take longer on a loaded machine; the
  // properties under test are what is answered and stored, not how fast.
  this.timeout(300_000);
  let cluster: NatsCluster;
  let service: RunningService | undefined;

  before(async () => {
    cluster = await NatsCluster.start();
  });

  afterEach(async () => {
    await service?.stop(2000);
    service = undefined;
  });

  after(async () => {
    await cluster?.dispose();
  });

  it('updates one-replica streams and buckets to NATS_REPLICAS=3 at start', async () => {
    await (await startTestService({ url: cluster.urls }, { NATS_REPLICAS: '1' })).stop(2000);
    const { nc, jsm } = await cluster.connect();
    try {
      expect((await jsm.streams.info('WEBHOOKS')).config.num_replicas).to.equal(1);
      service = await startTestService({ url: cluster.urls }, { NATS_REPLICAS: '3' });
      for (const name of [...STREAMS, ...BUCKETS.map((b) => `KV_${b}`)]) {
        const info = await waitFor(`${name} on three nodes with a leader`, async () => {
          const i = await jsm.streams.info(name);
          return i.cluster?.leader && i.cluster.replicas?.length === 2 ? i : undefined;
        }, { timeoutMs: 20_000 });
        expect(info.config.num_replicas, name).to.equal(3);
      }
    } finally {
      await nc.close();
    }
  });

  it('reports not ready while WEBHOOKS has no quorum, and ready again once it has', async () => {
    // Connected to the node that stays up, so the connection itself never drops.
    service = await startTestService({ url: cluster.nodes[0]!.url }, { NATS_REPLICAS: '3' });
    await waitFor('ready', async () => (await fetch(`${service!.url}/ready`)).status === 200, { timeoutMs: 20_000 });
    const [, second, third] = cluster.nodes;
    await cluster.stop(second!.name);
    await cluster.stop(third!.name);
    // The connection to the remaining node stays up; only the stream has no leader.
    const refused = await waitFor('503 from /ready naming WEBHOOKS', async () => {
      const res = await fetch(`${service!.url}/ready`);
      const body = (await res.json()) as { reason: string };
      return res.status === 503 && body.reason.includes('WEBHOOKS') ? body : undefined;
    }, { timeoutMs: 20_000 });
    expect(refused.reason).to.match(/^stream WEBHOOKS (has no leader|does not answer)/);
    expect(service.link.status().ready).to.equal(true);
    await cluster.restart(second!.name, { wait: false });
    await cluster.restart(third!.name, { wait: false });
    await waitFor('200 from /ready', async () => (await fetch(`${service!.url}/ready`)).status === 200, { timeoutMs: 30_000 });
  });

  it('stores every webhook it acknowledged while the WEBHOOKS leader is killed and comes back', async () => {
    service = await startTestService({ url: cluster.urls }, { NATS_REPLICAS: '3' });
    const acked: { id: string; seq: number }[] = [];
    const refused: { at: number; code: string }[] = [];
    let n = 0;
    let sending = true;
    const sender = async () => {
      while (sending && n < 20_000) {
        const id = `node-loss-${n++}`;
        const res = await postWebhook(service!.url, 'orders', ORDER_BODY, { 'webhook-id': id });
        if (res.status === 202) acked.push({ id, seq: res.json.seq });
        else {
          refused.push({ at: Date.now(), code: `${res.status} ${res.json?.error?.code}` });
          // A sender backs off after a 503 (bounded by the count above either way).
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    const senders = [sender(), sender(), sender()];
    try {
      await waitFor('100 webhooks stored', () => acked.length >= 100, { timeoutMs: 30_000 });
      const leader = await cluster.streamLeader('WEBHOOKS');
      const killedAt = Date.now();
      await cluster.kill(leader);
      const beforeKill = acked.length;
      await waitFor('100 more stored with the leader gone', () => acked.length >= beforeKill + 100, { timeoutMs: 90_000 });
      const backAfterMs = Date.now() - killedAt;
      await cluster.restart(leader, { wait: false });
      const beforeRestart = acked.length;
      await waitFor('100 more stored after the restart', () => acked.length >= beforeRestart + 100, { timeoutMs: 90_000 });
      sending = false;
      await Promise.all(senders);
      const span = refused.length ? (refused.at(-1)!.at - refused[0]!.at) / 1000 : 0;
      console.log(`      node loss: ${acked.length} stored, ${refused.length} refused over ${span.toFixed(1)} s, 100 stored within ${backAfterMs} ms of the kill`);
    } finally {
      sending = false;
      await Promise.all(senders);
    }

    for (const r of refused) expect(r.code).to.match(/^503 INGEST_STREAM_(UNAVAILABLE|REFUSED)$/);
    const { nc, jsm } = await cluster.connect();
    try {
      const ids = new Map<string, number>();
      for (const { id } of acked) ids.set(id, (ids.get(id) ?? 0) + 1);
      expect([...ids.values()].every((c) => c === 1)).to.equal(true);
      // Acknowledged = stored, counted per delivery id: read every stored webhook once.
      const stored = await storedWebhookIds(jsm);
      const missing = acked.filter(({ id }) => stored.get(id) !== 1).map(({ id, seq }) => `${id} (acked as seq ${seq}, stored ${stored.get(id) ?? 0}×)`);
      expect(missing, 'acknowledged but not stored exactly once').to.deep.equal([]);
    } finally {
      await nc.close();
    }
  });
});
