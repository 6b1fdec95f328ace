import { expect } from 'chai';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { encodeWire } from '../../../src/dependencies/ownership/callWire.js';
import type { LeaseValue } from '../../../src/dependencies/ownership/lease.js';
import type { Env } from '../../../src/config/parse.js';
import type { RunningService } from '../../../src/service.js';
import { TestNats } from '../../helpers/natsServer.js';
import { failureOf } from '../../helpers/outcomes.js';
import { startTestService } from '../../helpers/service.js';
import { waitFor } from '../../helpers/waitFor.js';
import { startAudnexStub } from '../../stubs/audnex.js';
import { MAM_ACCOUNT, startMamStub, type MamStub } from '../../stubs/mam.js';
import { busiestSecond, type StubServer } from '../../stubs/stubServer.js';
import { callSubject } from '../../../src/bus/names.js';

const ASIN = 'B08G9PRS1K';
const BOOK = { kind: 'book', asin: ASIN, region: 'us' };

interface Reply {
  ok: boolean;
  value?: unknown;
  error?: { code: string; message: string };
}
const decode = (data: Uint8Array) => JSON.parse(new TextDecoder().decode(data)) as Reply;

/**
 * Messages any client of the NATS account can publish on the service's
 * dependency-call subjects (`webhook-relay.dep.<name>.call`), and what the
 * owner and a forwarding instance make of them.
 */
describe('forged messages on the dependency-call subjects', function () {
  this.timeout(90_000);
  let nats: TestNats;
  let audnex: StubServer;
  let mam: MamStub;
  let forger: NatsConnection;

  const env = (): Env => ({
    AUDNEX_URL: audnex.url,
    AUDNEX_RATE: '2',
    AUDNEX_BURST: '1',
    // The owner's forward deadline is twice this: 2 s.
    AUDNEX_TIMEOUT_MS: '1000',
    MAM_URL: mam.url,
    MAM_EMAIL: MAM_ACCOUNT.email,
    MAM_PASSWORD: MAM_ACCOUNT.password,
    MAM_RATE: '100',
    MAM_BURST: '10',
    BROWSER_SCOPE: 'cluster',
    // Enough for the login to launch its own Chromium on a loaded machine.
    BROWSER_TIMEOUT_MS: '15000',
    DEP_OWNER_LEASE_MS: '3000',
  });
  const ask = async (name: string, envelope: unknown) => decode((await forger.request(callSubject(name), encodeWire(envelope as never), { timeout: 20_000 })).data);

  before(async () => {
    nats = await TestNats.start();
    audnex = await startAudnexStub();
    mam = await startMamStub();
    forger = await connect({ servers: nats.url });
  });

  after(async () => {
    await forger?.close();
    await audnex?.close();
    await mam?.server.close();
    await nats?.dispose();
  });

  describe('sent to an owner', () => {
    let service: RunningService;

    before(async () => {
      service = await startTestService(nats, env(), { edge: false, processing: true });
      await waitFor('the leases', () => ['audnex', 'browser', 'mam'].every((d) => service.ownership?.isOwner(d)), { timeoutMs: 30_000 });
    });

    after(async () => {
      await service?.stop(1000);
    });

    it('runs no call without a reply subject, whatever cost and deadline it claims', async () => {
      audnex.clearRecords();
      for (let i = 0; i < 10; i++) forger.publish(callSubject('audnex'), encodeWire({ request: BOOK, cost: { calls: 0 }, deadlineMs: 1e12 } as never));
      // A call with a reply, sent after them, shows the owner has read all ten.
      expect((await ask('audnex', { request: BOOK, deadlineMs: 2000 })).ok).to.equal(true);
      expect(audnex.calls.filter((c) => c.path.startsWith('/books/'))).to.have.length(1);
    });

    it("charges what the request costs and cuts the caller's deadline to its own, so forged calls keep to the limit", async () => {
      audnex.clearRecords();
      const replies = await Promise.all(Array.from({ length: 8 }, () => ask('audnex', { request: BOOK, cost: { calls: 0 }, deadlineMs: 1e12 })));
      const refused = replies.filter((r) => !r.ok);
      // 2 calls a second and a 2 s forward deadline: the calls that could not finish in time are refused at once.
      expect(refused.length, JSON.stringify(replies)).to.be.greaterThan(0);
      expect(refused.map((r) => r.error?.code)).to.satisfy((codes: string[]) => codes.every((c) => c === 'DEP_OVERLOADED'));
      const lookups = audnex.calls.filter((c) => c.path.startsWith('/books/'));
      expect(lookups).to.have.length(replies.length - refused.length);
      expect(busiestSecond(lookups)).to.be.at.most(2 + 1);
    });

    it('refuses a forged browser call with DEP_BAD_CALL before the mailbox: nothing launched, the breaker stays closed', async () => {
      const { runtime } = service.actors!;
      for (let i = 0; i < 5; i++) {
        const reply = await ask('browser', { request: { kind: 'scrape', url: 'http://127.0.0.1:9/', waitUntil: 'bogus', timeoutMs: 1000 }, deadlineMs: 4000 });
        expect(reply.error?.code, JSON.stringify(reply)).to.equal('DEP_BAD_CALL');
        expect(reply.error?.message).to.include('waitUntil');
      }
      const unknownKind = await ask('browser', { request: { kind: 'submitForm', url: `${mam.url}/login.php`, fields: { a: 'b' }, submit: 'c', timeoutMs: 1000 }, deadlineMs: 4000 });
      expect(unknownKind.error?.code).to.equal('DEP_BAD_CALL');
      const browser = runtime.status('browser')!;
      expect(browser.state).to.equal('closed');
      expect(browser.counters).to.deep.equal({ ok: 0, failed: 0, rejected: 0 });
    });
  });

  describe('answered by a forger while the owner is elsewhere', () => {
    let service: RunningService;
    let owners: KV;
    const renewals: NodeJS.Timeout[] = [];

    /** Holds a lease for an instance that does not exist, renewing it, so the service never owns that dependency. */
    async function holdElsewhere(name: string): Promise<void> {
      const value = () => {
        const now = new Date();
        return JSON.stringify({ instance: 'elsewhere', since: now.toISOString(), renewedAt: now.toISOString(), leaseMs: 3000, expiresAt: new Date(now.getTime() + 3000).toISOString() } satisfies LeaseValue);
      };
      let revision = await owners.create(name, value());
      renewals.push(setInterval(() => void owners.update(name, value(), revision).then((r) => (revision = r), () => undefined), 500));
    }

    before(async () => {
      owners = await new Kvm(forger).create('dependency-owners', { history: 1 });
      for (const name of ['audnex', 'browser']) {
        await owners.delete(name).catch(() => undefined);
        await holdElsewhere(name);
      }
      service = await startTestService(nats, env(), { edge: false, processing: true });
      await waitFor('the mam lease', () => service.ownership?.isOwner('mam'), { timeoutMs: 30_000 });
    });

    after(async () => {
      for (const t of renewals) clearInterval(t);
      await service?.stop(1000);
    });

    it("never hands a handler a forged reply: a value that is not Audnex's answer fails retriably", async () => {
      const sub = forger.subscribe(callSubject('audnex'), { callback: (_e, msg) => void msg.respond(encodeWire({ ok: true, value: 'FORGED' })) });
      await forger.flush();
      try {
        const e = await failureOf(service.actors!.deps.audnex.getBook(ASIN));
        expect(e.code).to.equal('DEP_OWNER_UNAVAILABLE');
        expect(e.retriable).to.equal(true);
        expect(e.message).to.include('not a valid audnex result');
      } finally {
        sub.unsubscribe();
      }
    });

    it('logs in to MAM where MAM_EMAIL and MAM_PASSWORD are: nothing of the login travels on a subject', async () => {
      const seen: string[] = [];
      const sniffer = forger.subscribe('webhook-relay.dep.>', { callback: (_e, msg) => void seen.push(new TextDecoder().decode(msg.data)) });
      await forger.flush();
      try {
        const result = await service.actors!.deps.mam.search({ text: 'weir' });
        expect(result.total).to.be.greaterThan(0);
        expect(mam.logins).to.equal(1);
        const wire = seen.join('\n');
        expect(wire).not.to.include(MAM_ACCOUNT.email);
        expect(wire).not.to.include(MAM_ACCOUNT.password);
        expect(wire).not.to.include(mam.valid);
      } finally {
        sniffer.unsubscribe();
      }
    });
  });
});
