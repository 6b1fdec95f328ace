import { expect } from 'chai';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { RunningService } from '../../../src/service.js';
import { NatsCluster } from '../../helpers/natsCluster.js';
import { audnexLookups, only } from '../../helpers/pipelines.js';
import { postWebhook, startTestService } from '../../helpers/service.js';
import { audnexStubEnv } from '../../helpers/testEnv.js';
import { waitFor } from '../../helpers/waitFor.js';
import { PROJECT_HAIL_MARY, startAudnexStub } from '../../stubs/audnex.js';
import { busiestSecond, type RecordedCall, type StubServer } from '../../stubs/stubServer.js';
import { callSubject } from '../../../src/bus/names.js';

const LEASE_MS = 2000;
const RATE = 4;
const COOLDOWN_MS = 6000;
const BURST = 1;
const IDS = ['relay-a', 'relay-b', 'relay-c'];
/**
 * How long a webhook may take once its dependency answers again: a delivery
 * held by the instance that was cut off comes back only after the consumer's
 * `ack_wait` (30 s), plus room for a loaded machine.
 */
const REDELIVERED_WITHIN_MS = 60_000;
const body = (n: string) => ({ embeds: [{ description: `Order Number\n${n}` }] });

async function statusOf(service: RunningService, id: string): Promise<string | undefined> {
  const r = await fetch(`${service.url}/webhooks/orders/${id}`);
  return r.status === 200 ? ((await r.json()) as { status: string }).status : undefined;
}

/** Whether two recorded calls were ever in progress at the same time. */
function overlapping(calls: readonly RecordedCall[]): boolean {
  const sorted = [...calls].sort((a, b) => a.startedAt - b.startedAt);
  return sorted.some((c, i) => i > 0 && (sorted[i - 1]!.endedAt ?? Infinity) > c.startedAt);
}

describe('one owner per dependency across three instances', function () {
  this.timeout(120_000);
  let cluster: NatsCluster;
  let stub: StubServer;
  let services: RunningService[] = [];
  let client: NatsConnection;

  before(async () => {
    cluster = await NatsCluster.start();
    stub = await startAudnexStub();
    stub.answerDelayMs = 30;
    const env = audnexStubEnv(stub.url, {
      AUDNEX_RATE: String(RATE),
      AUDNEX_BURST: String(BURST),
      DEP_OWNER_LEASE_MS: String(LEASE_MS),
      MAX_DELIVER: '50',
      ORDERS_CONCURRENCY: '2',
      INGEST_WORKERS: '1',
      AUDNEX_BREAKER_COOLDOWN_MS: String(COOLDOWN_MS),
    });
    // Started together: the leases are contended at the same moment.
    services = await Promise.all(
      IDS.map((id, i) =>
        startTestService({ url: cluster.nodes[i]!.url }, { ...env, INSTANCE_ID: id }, { edge: true, processing: true }, only(audnexLookups('orders', PROJECT_HAIL_MARY.asin))),
      ),
    );
    client = await connect({ servers: cluster.urls });
  });

  after(async () => {
    await client?.close();
    await Promise.allSettled(services.map((s) => s.stop(1000)));
    await stub?.close();
    await cluster?.dispose();
  });

  const owners = () => services.filter((s) => s.ownership?.isOwner('audnex') && !s.link.nc?.isClosed());

  it('has exactly one owner, and webhooks from every instance reach it within its limits', async () => {
    await waitFor('an audnex owner', () => owners().length === 1, { timeoutMs: 10_000 });
    expect(owners()).to.have.length(1);
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const id = `spread-${i}`;
      ids.push(id);
      const res = await postWebhook(services[i % 3]!.url, 'orders', body(id), { 'webhook-id': id });
      expect(res.status).to.equal(202);
    }
    for (const id of ids) await waitFor(`${id} done`, async () => (await statusOf(services[0]!, id)) === 'done', { timeoutMs: 30_000 });
    expect(owners()).to.have.length(1);
    const [owner] = owners();
    const other = services.find((s) => s !== owner)!;
    const view = (await (await fetch(`${other.url}/actors`)).json()) as { dependencies: { name: string; activity: string; counters: { ok: number }; owner: { instance: string } | null }[] };
    const audnex = view.dependencies.find((d) => d.name === 'audnex')!;
    expect(audnex.owner?.instance).to.equal(IDS[services.indexOf(owner!)]);
    expect(audnex.activity, 'as the owner sees it').to.not.equal('elsewhere');
    expect(audnex.counters.ok).to.be.at.least(ids.length);
    expect(view.dependencies.find((d) => d.name === 'browser')!.owner).to.equal(null);
    expect(stub.maxConcurrency).to.equal(1);
    expect(busiestSecond(stub.calls)).to.be.at.most(RATE + BURST);
  });

  it('refuses a message that is not a call with DEP_BAD_CALL and keeps serving', async () => {
    const unknownMethod = '{"request": {"kind": "delete", "asin": "B08G9PRS1K", "region": "us"}, "deadlineMs": 5000}';
    for (const junk of ['not json', '{"request": 5, "deadlineMs": 1000}', '{"request": {"kind": "book"}}', unknownMethod]) {
      const reply = await client.request(callSubject('audnex'), new TextEncoder().encode(junk), { timeout: 5000 });
      const answer = JSON.parse(new TextDecoder().decode(reply.data)) as { ok: boolean; error: { code: string } };
      expect(answer.ok).to.equal(false);
      expect(answer.error.code, junk).to.equal('DEP_BAD_CALL');
    }
    expect(stub.calls.filter((c) => !c.path.startsWith('/books/')), 'nothing but book lookups reached Audnex').to.deep.equal([]);
    const id = 'after-junk';
    await postWebhook(services[1]!.url, 'orders', body(id), { 'webhook-id': id });
    await waitFor(`${id} done`, async () => (await statusOf(services[1]!, id)) === 'done', { timeoutMs: 20_000 });
  });

  it('moves ownership when the owner is cut off, without two owners calling at once', async () => {
    const [old] = owners();
    const survivors = services.filter((s) => s !== old);
    stub.clearRecords();
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const id = `handover-${i}`;
      ids.push(id);
      await postWebhook(survivors[i % 2]!.url, 'orders', body(id), { 'webhook-id': id });
    }
    // Cut off without releasing the lease: its renewals fail from now on.
    const cutAt = Date.now();
    await old!.link.nc!.close();
    await waitFor('the old owner to stop owning', () => !old!.ownership!.isOwner('audnex'), { timeoutMs: LEASE_MS });
    const stoppedAt = Date.now();
    await waitFor('a new owner', () => survivors.some((s) => s.ownership!.isOwner('audnex')), { timeoutMs: LEASE_MS + 5000 });
    const tookOverAt = Date.now();
    expect(tookOverAt - cutAt).to.be.below(LEASE_MS + 5000);
    // The partitioned owner stopped dispatching at least half a lease before anyone could take over.
    expect(tookOverAt - stoppedAt).to.be.at.least(LEASE_MS / 2 - 100);
    for (const id of ids) await waitFor(`${id} done`, async () => (await statusOf(survivors[0]!, id)) === 'done', { timeoutMs: REDELIVERED_WITHIN_MS });
    expect(survivors.filter((s) => s.ownership!.isOwner('audnex'))).to.have.length(1);
    expect(overlapping(stub.calls)).to.equal(false);
    expect(busiestSecond(stub.calls)).to.be.at.most(RATE + BURST);
  });

  it('keeps an open breaker open across failover: the new owner sends nothing before the probe time', async () => {
    const [old] = owners();
    const survivor = services.find((s) => s !== old && !s.link.nc?.isClosed())!;
    stub.setMode({ kind: 'status', status: 503 });
    const ids = ['open-0', 'open-1', 'open-2'];
    for (const id of ids) await postWebhook(survivor.url, 'orders', body(id), { 'webhook-id': id });
    await waitFor('the breaker open on the owner', () => old!.actors!.runtime.status('audnex')!.state === 'open', { timeoutMs: 20_000 });
    const nextProbeAt = old!.actors!.runtime.status('audnex')!.nextProbeAt!;
    await waitFor('the survivor to see it open', () => survivor.actors!.runtime.status('audnex')!.state === 'open');
    stub.clearRecords();
    await old!.link.nc!.close();
    await waitFor('the survivor to own audnex', () => survivor.ownership!.isOwner('audnex'), { timeoutMs: LEASE_MS + 5000 });
    expect(Date.now(), 'took over before the probe time').to.be.below(nextProbeAt);
    expect(survivor.actors!.runtime.status('audnex')!.state).to.equal('open');
    stub.setMode({ kind: 'ok' });
    for (const id of ids) await waitFor(`${id} done`, async () => (await statusOf(survivor, id)) === 'done', { timeoutMs: REDELIVERED_WITHIN_MS });
    expect(stub.calls.length).to.be.greaterThan(0);
    expect(Math.min(...stub.calls.map((c) => c.startedAt)), 'first call after the handover').to.be.at.least(nextProbeAt);
  });
});
