import type { ChildProcess } from 'node:child_process';
import { expect } from 'chai';
import { freePort } from '../../../src/nats/localServer.js';
import { exitOf, startMain } from '../../helpers/mainProcess.js';
import { NatsCluster } from '../../helpers/natsCluster.js';
import { postWebhook } from '../../helpers/service.js';
import { waitFor } from '../../helpers/waitFor.js';
import { PROJECT_HAIL_MARY, startAudnexStub } from '../../stubs/audnex.js';
import { startMamStub, type MamStub } from '../../stubs/mam.js';
import { busiestSecond, type StubServer } from '../../stubs/stubServer.js';

const LEASE_MS = 2000;
const RATE = 4;
const BURST = 1;
const WEBHOOKS = 24;

interface Instance {
  id: string;
  url: string;
  child: ChildProcess;
  output: () => string;
}

async function ownerOf(instance: Instance, dependency: string): Promise<string | undefined> {
  const view = (await (await fetch(`${instance.url}/actors`)).json()) as { dependencies: { name: string; owner: { instance: string } | null }[] };
  return view.dependencies.find((d) => d.name === dependency)?.owner?.instance;
}

async function statusOf(instance: Instance, id: string): Promise<string | undefined> {
  const r = await fetch(`${instance.url}/webhooks/audiobooks/${id}`);
  return r.status === 200 ? ((await r.json()) as { status: string }).status : undefined;
}

async function deliveriesOf(instance: Instance, id: string): Promise<number> {
  return ((await (await fetch(`${instance.url}/webhooks/audiobooks/${id}`)).json()) as { deliveries: number }).deliveries;
}

describe('a dependency owner SIGKILLed (three service processes, three NATS nodes)', function () {
  this.timeout(180_000);
  let cluster: NatsCluster;
  let audnex: StubServer;
  let mam: MamStub;
  const instances: Instance[] = [];

  before(async () => {
    cluster = await NatsCluster.start();
    [audnex, mam] = await Promise.all([startAudnexStub(), startMamStub()]);
    audnex.answerDelayMs = 50;
    // One MAM session for all: whichever instance owns MAM starts from it (a new session would end the previous one).
    const mamSession = mam.openSession();
    for (const id of ['kill-1', 'kill-2', 'kill-3']) {
      const port = await freePort();
      const { child, output } = startMain({
        NATS_URL: cluster.urls,
        NATS_REPLICAS: '3',
        INSTANCE_ID: id,
        PORT: String(port),
        INGEST_WORKERS: '1',
        LOG_LEVEL: 'warn',
        DEP_OWNER_LEASE_MS: String(LEASE_MS),
        AUDNEX_URL: audnex.url,
        AUDNEX_RATE: String(RATE),
        AUDNEX_BURST: String(BURST),
        AUDNEX_CONCURRENCY: '1',
        MAM_URL: mam.url,
        MAM_ID: mamSession,
        MAM_RATE: '50',
        MAX_DELIVER: '50',
        RETRY_BACKOFF: '200ms',
      });
      instances.push({ id, url: `http://127.0.0.1:${port}`, child, output });
    }
    for (const i of instances) await waitFor(`${i.id} ready`, async () => (await fetch(`${i.url}/ready`)).status === 200, { timeoutMs: 60_000 });
    await waitFor('an owner of audnex', async () => ownerOf(instances[0]!, 'audnex'), { timeoutMs: 30_000 });
  });

  after(async () => {
    for (const i of instances) {
      if (i.child.exitCode === null && i.child.signalCode === null) {
        i.child.kill('SIGTERM');
        await exitOf(i.child);
      }
    }
    await Promise.all([audnex?.close(), mam?.close()]);
    await cluster?.dispose();
  });

  it('moves ownership within the lease and a few seconds, keeps the limits, and completes every webhook', async () => {
    const ownerId = (await ownerOf(instances[0]!, 'audnex'))!;
    const owner = instances.find((i) => i.id === ownerId)!;
    const survivors = instances.filter((i) => i !== owner);
    const ids = Array.from({ length: WEBHOOKS }, (_, n) => `killed-owner-${n}`);
    for (const [n, id] of ids.entries()) {
      const answer = await postWebhook(instances[n % 3]!.url, 'audiobooks', { asin: PROJECT_HAIL_MARY.asin }, { 'webhook-id': id });
      expect(answer.status, id).to.equal(202);
    }
    // Killed while lookups are under way: its mailbox holds calls forwarded by the others.
    await waitFor('a few lookups under way', () => audnex.calls.length >= 3, { timeoutMs: 30_000 });
    const killedAt = Date.now();
    owner.child.kill('SIGKILL');
    await exitOf(owner.child);

    const newOwner = await waitFor('a new owner', async () => {
      const o = await ownerOf(survivors[0]!, 'audnex').catch(() => undefined);
      return o && o !== ownerId ? o : undefined;
    }, { timeoutMs: LEASE_MS + 10_000, intervalMs: 50 });
    const takeoverMs = Date.now() - killedAt;
    expect(survivors.map((s) => s.id)).to.include(newOwner);
    expect(takeoverMs).to.be.below(LEASE_MS + 5000);

    // Webhooks the killed process had pulled come back after the consumer's 30 s ack_wait.
    for (const id of ids) await waitFor(`${id} done`, async () => (await statusOf(survivors[0]!, id)) === 'done', { timeoutMs: 90_000 });
    const retried = (await Promise.all(ids.map((id) => deliveriesOf(survivors[0]!, id)))).filter((n) => n > 1).length;
    const firstAfter = Math.min(...audnex.calls.filter((c) => c.startedAt >= killedAt).map((c) => c.startedAt));
    console.log(`      owner SIGKILLed: new owner after ${takeoverMs} ms, its first call ${firstAfter - killedAt} ms after the kill; ${audnex.calls.length} lookups for ${WEBHOOKS} webhooks, ${retried} delivered more than once`);
    expect(audnex.maxConcurrency, 'never two lookups at once').to.equal(1);
    expect(busiestSecond(audnex.calls), 'calls in any one second').to.be.at.most(RATE + BURST);
    // Two owners never dispatch together: nothing started between the kill and the end of the old lease.
    expect(audnex.calls.filter((c) => c.startedAt > killedAt && c.startedAt < killedAt + LEASE_MS / 2)).to.deep.equal([]);
  });
});
