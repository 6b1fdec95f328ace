import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { accountsConf, rolePermissions, type NatsRole } from '../../src/bus/permissions.js';
import { DEPENDENCY_NAMES } from '../../src/dependencies/mod.js';
import { unlessMissing } from '../../src/bus/missing.js';
import { findStoredWebhook } from '../../src/ingest/storedWebhook.js';
import type { RunningService } from '../../src/service.js';
import { sources } from '../../src/sources/registry.js';
import { freePort } from '../../src/nats/localServer.js';
import { exitOf, startMain } from '../helpers/mainProcess.js';
import { TestNats } from '../helpers/natsServer.js';
import { ORDER_BODY, postWebhook, startTestService } from '../helpers/service.js';
import { waitFor } from '../helpers/waitFor.js';
import { PROJECT_HAIL_MARY, startAudnexStub } from '../stubs/audnex.js';
import { startMamStub, type MamStub } from '../stubs/mam.js';
import type { StubServer } from '../stubs/stubServer.js';

const ACCOUNTS_FILE = fileURLToPath(new URL('../../deploy/nats/accounts.conf', import.meta.url));
const input = { sources: [...sources.keys()], dependencies: [...DEPENDENCY_NAMES] };
const PASSWORDS: Record<NatsRole, string> = { relay: 'relay-secret-1', edge: 'edge-secret-22', worker: 'worker-secret-333', operator: 'operator-secret-4444' };
const ADMIN = 'admin-token-of-the-permissions-test';

/** The shipped accounts.conf, its passwords defined first, and an `other` account outside the relay's. */
async function securedNats(): Promise<TestNats> {
  // Variables are defined where they are used: the file's text follows them (an include is parsed on its own).
  const config = [
    ...Object.entries(PASSWORDS).map(([role, pw]) => `${role.toUpperCase()}_PASSWORD: "${pw}"`),
    await readFile(ACCOUNTS_FILE, 'utf8'),
    // A user of the global account: outside the relay account.
    'authorization { users: [ { user: outsider, password: "outsider-secret" } ] }',
  ].join('\n');
  return TestNats.start({ config });
}

/** The environment a service process connects with as `role`. */
const as = (role: NatsRole, nats: TestNats) => ({ NATS_URL: nats.url, NATS_USER: role, NATS_PASSWORD: PASSWORDS[role], NATS_INBOX_PREFIX: rolePermissions(input)[role].inboxPrefix });

/** Resolves with the permission error `attempt` gets, or fails when it is allowed. */
async function denied(what: string, attempt: () => Promise<unknown>): Promise<string> {
  try {
    await attempt();
  } catch (e) {
    const messages = [(e as Error).message, ((e as Error).cause as Error | undefined)?.message ?? ''].join(' ');
    expect(messages, what).to.match(/Permissions Violation/i);
    return messages;
  }
  throw new Error(`${what}: allowed`);
}

describe('NATS permissions per role (deploy/nats/accounts.conf)', function () {
  this.timeout(120_000);

  it('is what src/bus/permissions.ts makes (regenerate with `npx tsx scripts/natsAccounts.ts`)', async () => {
    expect(await readFile(ACCOUNTS_FILE, 'utf8')).to.equal(accountsConf(input));
  });

  it('lists exact subjects: no full wildcard, and each user reads replies only under its own inbox prefix', () => {
    const roles = rolePermissions(input);
    for (const [role, p] of Object.entries(roles)) {
      for (const s of [...p.publish, ...p.subscribe]) expect(['>', '$JS.API.>', '$JS.>', '$KV.>', 'webhooks.>', '_INBOX_*.>'], `${role}: ${s}`).to.not.include(s);
      expect(p.subscribe.filter((s) => s.startsWith('_INBOX')), role).to.deep.equal([`${p.inboxPrefix}.>`]);
    }
    expect(new Set(Object.values(roles).map((p) => p.inboxPrefix)).size, 'one prefix per user').to.equal(4);
  });

  describe('against a server running that configuration', () => {
    let nats: TestNats;
    let worker: RunningService;
    const clients: NatsConnection[] = [];
    const client = async (user: string, pass: string, inboxPrefix?: string) => {
      const nc = await connect({ servers: nats.url, user, pass, ...(inboxPrefix ? { inboxPrefix } : {}) });
      clients.push(nc);
      return nc;
    };
    const roleClient = (role: NatsRole) => client(role, PASSWORDS[role], rolePermissions(input)[role].inboxPrefix);

    before(async () => {
      nats = await securedNats();
      // The worker creates the topology; every other role only binds to it.
      worker = await startTestService(nats, { ...as('worker', nats), INSTANCE_ID: 'perm-worker' }, { edge: false, processing: true });
    });
    after(async () => {
      for (const nc of clients) await nc.close().catch(() => undefined);
      await worker?.stop(1000);
      await nats?.dispose();
    });

    it('refuses a client without credentials', async () => {
      let error: unknown;
      await connect({ servers: nats.url }).then((nc) => nc.close(), (e: unknown) => (error = e));
      expect((error as Error)?.message).to.match(/Authorization Violation/);
    });

    it('the edge may publish webhooks and look one up by its delivery id, but not pull from a consumer, call a dependency or read a result bucket', async () => {
      const nc = await roleClient('edge');
      // The status route's lookup: the duplicate-index probe, then STREAM.MSG.GET by sequence (here of nothing).
      expect(await findStoredWebhook(jetstream(nc), await jetstreamManager(nc), 'orders', 'never-sent')).to.equal(undefined);
      expect(await unlessMissing((await jetstreamManager(nc)).streams.getMessage('WEBHOOKS', { seq: 1_000_000 }))).to.equal(null);
      await denied('pull from orders', () => nc.request('$JS.API.CONSUMER.MSG.NEXT.WEBHOOKS.orders', JSON.stringify({ batch: 1 }), { timeout: 2000 }));
      await denied('call audnex', () => nc.request('webhook-relay.dep.audnex.call', '{}', { timeout: 2000 }));
      await denied('read the orders bucket', async () => (await new Kvm(nc).open('orders')).get('TEST-1'));
    });

    it('the operator may read stream, consumer and key information, but not publish a webhook, call a dependency, purge a stream or delete a key', async () => {
      const nc = await roleClient('operator');
      const jsm = await jetstreamManager(nc);
      expect((await jsm.streams.info('WEBHOOKS')).config.name).to.equal('WEBHOOKS');
      expect((await jsm.consumers.info('WEBHOOKS', 'orders')).name).to.equal('orders');
      const status = await new Kvm(nc).open('webhook-status');
      expect(await status.get('orders.nothing-here')).to.equal(null);
      await denied('publish a webhook', () => nc.request('webhooks.orders', JSON.stringify(ORDER_BODY), { timeout: 2000 }));
      await denied('call audnex', () => nc.request('webhook-relay.dep.audnex.call', '{}', { timeout: 2000 }));
      await denied('purge WEBHOOKS', () => jsm.streams.purge('WEBHOOKS'));
      await denied('delete a key', () => status.delete('orders.nothing-here'));
    });

    it('a client outside the relay account reaches none of its subjects', async () => {
      const relay = await roleClient('worker');
      const jsm = await jetstreamManager(relay);
      const before = (await jsm.streams.info('WEBHOOKS')).state.messages;
      const seen: string[] = [];
      const sub = relay.subscribe('webhook-relay.dep.audnex.call', { callback: (_e, m) => void seen.push(m.subject) });
      const ops = relay.subscribe('webhook-relay.ops.presence', { callback: (_e, m) => void seen.push(m.subject) });
      const outsider = await client('outsider', 'outsider-secret');
      for (const subject of ['webhooks.orders', 'webhook-relay.dep.audnex.call', 'webhook-relay.ops.presence']) outsider.publish(subject, JSON.stringify(ORDER_BODY));
      await outsider.flush();
      await relay.flush();
      expect(seen, 'nothing crossed into the relay account').to.not.include.members(['webhook-relay.dep.audnex.call']);
      expect((await jsm.streams.info('WEBHOOKS')).state.messages).to.equal(before);
      sub.unsubscribe();
      ops.unsubscribe();
    });
  });

  describe('the service under exactly those permissions', () => {
    let nats: TestNats;
    let audnex: StubServer;
    let mam: MamStub;
    const services: RunningService[] = [];
    before(async () => {
      nats = await securedNats();
      audnex = await startAudnexStub();
      mam = await startMamStub();
      mamSession = mam.openSession();
    });
    after(async () => {
      for (const s of services.splice(0)) await s.stop(1000).catch(() => undefined);
      await audnex?.close();
      await mam?.close();
      await nats?.dispose();
    });
    let mamSession: string;
    // One MAM session for every instance: opening another would end it.
    const deps = () => ({ AUDNEX_URL: audnex.url, AUDNEX_RATE: '100', AUDNEX_BURST: '10', MAM_URL: mam.url, MAM_ID: mamSession, MAM_RATE: '100', MAM_BURST: '10', RETRY_BACKOFF: '100ms', MAX_DELIVER: '3' });
    const start = async (role: NatsRole, instance: string, roles: { edge: boolean; processing: boolean }) => {
      const s = await startTestService(nats, { ...as(role, nats), ...deps(), INSTANCE_ID: instance, ADMIN_TOKEN: ADMIN, DEP_OWNER_LEASE_MS: '2000' }, roles);
      services.push(s);
      return s;
    };
    const statusOf = async (url: string, source: string, id: string) => {
      const r = await fetch(`${url}/webhooks/${source}/${id}`, { headers: { authorization: `Bearer ${ADMIN}` } });
      return r.status === 200 ? ((await r.json()) as { status: string; result?: { value?: unknown } }) : undefined;
    };

    it('an edge started before any worker stays not ready, naming what it may not create', async () => {
      const port = await freePort();
      const edge = startMain({ ...as('edge', nats), SERVICE_ROLE: 'edge', INSTANCE_ID: 'early-edge', PORT: String(port), INGEST_WORKERS: '1' });
      try {
        const ready = await waitFor('a refusal on /ready', async () => {
          const r = await fetch(`http://127.0.0.1:${port}/ready`).catch(() => undefined);
          const body = r ? ((await r.json()) as { ready: boolean; reason?: string }) : undefined;
          return body?.reason?.includes('may not create') ? { status: r!.status, ...body } : undefined;
        }, { timeoutMs: 30_000, intervalMs: 200 });
        expect(ready.status).to.equal(503);
        expect(ready.reason).to.match(/stream WEBHOOKS does not exist and this NATS user may not create it \(publish to \$JS\.API\.STREAM\.CREATE\.WEBHOOKS denied\)/);
      } finally {
        edge.child.kill('SIGKILL');
        await exitOf(edge.child);
      }
    });

    it('two workers and an edge: orders and audiobooks done (Audnex and MAM owned by one worker, called from both), dead letters listed and replayed, the operating view answered', async () => {
      await start('worker', 'w1', { edge: false, processing: true });
      await start('worker', 'w2', { edge: false, processing: true });
      const edge = await start('edge', 'e1', { edge: true, processing: false });
      for (let i = 0; i < 6; i++) {
        expect((await postWebhook(edge.url, 'audiobooks', { asin: PROJECT_HAIL_MARY.asin }, { 'webhook-id': `perm-book-${i}` })).status).to.equal(202);
      }
      expect((await postWebhook(edge.url, 'orders', ORDER_BODY, { 'webhook-id': 'perm-order' })).status).to.equal(202);
      // No order number: a permanent failure, dead-lettered at once.
      expect((await postWebhook(edge.url, 'orders', { embeds: [{ description: 'Product\nNothing' }] }, { 'webhook-id': 'perm-dead' })).status).to.equal(202);
      for (const id of ['perm-order', ...Array.from({ length: 6 }, (_, i) => `perm-book-${i}`)]) {
        const source = id.startsWith('perm-book') ? 'audiobooks' : 'orders';
        await waitFor(`${id} done`, async () => (await statusOf(edge.url, source, id))?.status === 'done', { timeoutMs: 30_000 });
      }
      const order = await statusOf(edge.url, 'orders', 'perm-order');
      expect(order?.result, 'the edge may not read results: the pointer without the value').to.not.have.property('value');
      expect(audnex.calls.length, 'Audnex reached through its one owner').to.be.at.least(1);

      await waitFor('the dead letter', async () => (await statusOf(edge.url, 'orders', 'perm-dead'))?.status === 'dead', { timeoutMs: 30_000 });
      const auth = { authorization: `Bearer ${ADMIN}` };
      const list = (await (await fetch(`${edge.url}/dead-letters`, { headers: auth })).json()) as { items: { seq: number }[] };
      expect(list.items).to.have.length(1);
      const replay = await fetch(`${edge.url}/dead-letters/${list.items[0]!.seq}/replay`, { method: 'POST', headers: auth });
      expect(replay.status).to.equal(200);

      const stats = await fetch(`${edge.url}/stats`);
      expect(stats.status).to.equal(200);
      const actors = (await (await fetch(`${edge.url}/actors`)).json()) as { dependencies: { name: string }[] } | Record<string, unknown>;
      expect(JSON.stringify(actors)).to.include('audnex');
    });

    it('the relay user runs SERVICE_ROLE=all alone', async () => {
      const all = await start('relay', 'all-1', { edge: true, processing: true });
      expect((await postWebhook(all.url, 'orders', { embeds: [{ description: 'Order Number\nRELAY-1' }] }, { 'webhook-id': 'perm-relay' })).status).to.equal(202);
      await waitFor('done', async () => (await statusOf(all.url, 'orders', 'perm-relay'))?.status === 'done', { timeoutMs: 30_000 });
    });
  });
});
