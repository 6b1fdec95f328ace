import { expect } from 'chai';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createLoginBrowser } from '../../../src/dependencies/browser/loginBrowser.js';
import { mamDependency, type MamHandle } from '../../../src/dependencies/mam/mam.js';
import { MAM_PAGE_SIZE, type MamTorrent } from '../../../src/dependencies/mam/schemas.js';
import { ensureBuckets } from '../../../src/bus/topology.js';
import { kvSessionStore, memorySessionStore, type SessionStore } from '../../../src/dependencies/mam/session.js';
import { type DependenciesConfig } from '../../../src/dependencies/registry.js';
import { MAM_DEFAULTS } from '../../../src/dependencies/mam/settings.js';
import type { DependencyDefinition } from '../../../src/dependencies/runtime/definition.js';
import type { DependencyError } from '../../../src/dependencies/runtime/errors.js';
import { startDependencies, type DependencyRuntime } from '../../../src/dependencies/runtime/runtime.js';
import { chromiumBrowsers } from '../../helpers/chromiumProcesses.js';
import { TestNats } from '../../helpers/natsServer.js';
import { track } from '../../helpers/controlledDependency.js';
import { waitFor } from '../../helpers/waitFor.js';
import { MAM_ACCOUNT, startMamStub, type MamStub } from '../../stubs/mam.js';
import { failureOf } from '../../helpers/outcomes.js';
import { describeRuntimeGuarantees } from '../../helpers/dependencyGuarantees.js';

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SEARCH_PATH = '/tor/js/loadSearchJSONbasic.php';

const PROJECT_HAIL_MARY: MamTorrent = {
  id: 812345,
  title: 'Project Hail Mary',
  authors: ['Andy Weir'],
  narrators: ['Ray Porter'],
  series: [],
  sizeBytes: Math.round(1.2 * 2 ** 30),
  seeders: 312,
  leechers: 4,
  completed: 5120,
  format: 'm4b',
  language: 'ENG',
  category: 'Audiobooks - Science Fiction',
  added: '2021-05-04T11:22:33Z',
  freeleech: false,
  vip: true,
};

type Runtime = DependencyRuntime<{ mam: DependencyDefinition<MamHandle> }>;


describe('mam actor', function () {
  this.timeout(60_000);
  let stub: MamStub;
  let runtime: Runtime | undefined;
  let mam: MamHandle;

  function start(overrides: Partial<DependenciesConfig['mam']> = {}, extra: { sessions?: SessionStore; loginTimeoutMs?: number } = {}) {
    const settings: DependenciesConfig['mam'] = {
      ...MAM_DEFAULTS,
      url: stub.url,
      rate: 1000,
      burst: 100,
      id: undefined,
      email: MAM_ACCOUNT.email,
      password: MAM_ACCOUNT.password,
      ...overrides,
    };
    // Port 9 (discard) stands in for the service's port: nothing here may reach it.
    const login = createLoginBrowser({ dependency: 'mam', chromiumPath: CHROMIUM_PATH, timeoutMs: extra.loginTimeoutMs ?? 30_000, site: stub.url, forbiddenPorts: [9] });
    const started: Runtime = startDependencies({ mam: mamDependency(settings, { login, sessions: extra.sessions }) });
    runtime = started;
    mam = started.deps.mam;
    return started;
  }

  beforeEach(async () => {
    stub = await startMamStub();
  });
  afterEach(async () => {
    await runtime?.stop();
    runtime = undefined;
    await stub.close();
    await waitFor('Chromium to exit', () => chromiumBrowsers().length === 0);
  });

  describe('wire format', () => {
    it('sends MAM_ID and returns typed results parsed from the JSON answer', async () => {
      start({ id: stub.openSession() });
      const result = await mam.search({ text: 'andy weir' });
      expect(result.total).to.equal(3);
      expect(result.results[0]).to.deep.equal(PROJECT_HAIL_MARY);
      expect(result.results[1]).to.deep.include({
        id: 698765,
        narrators: ['R. C. Bray', 'Wil Wheaton'],
        series: [{ name: 'The Martian', position: '1' }],
        sizeBytes: 10_892_928,
        format: 'mp3 m4a',
        freeleech: true,
        vip: false,
      });
      expect(result.results[2]).to.deep.include({ title: 'Artemis', authors: [], narrators: [], sizeBytes: 924_319_744, seeders: 0, language: undefined });
      expect(stub.searches).to.have.length(1);
      expect(stub.searches[0]!.body).to.deep.equal({
        tor: { text: 'andy weir', srchIn: ['title', 'author', 'narrator'], searchType: 'all', searchIn: 'torrents', cat: ['0'], sortType: 'default', startNumber: '0' },
        perpage: MAM_PAGE_SIZE,
      });
      expect(stub.logins).to.equal(0);
    });

    it('asks for the requested page and fields', async () => {
      start({ id: stub.openSession() });
      expect(await mam.search({ text: 'weir', srchIn: ['author'], page: 2 })).to.deep.equal({ total: 3, results: [] });
      expect(stub.searches[0]!.body).to.deep.include({ perpage: MAM_PAGE_SIZE });
      expect((stub.searches[0]!.body as { tor: object }).tor).to.deep.include({ srchIn: ['author'], startNumber: String(2 * MAM_PAGE_SIZE) });
    });

    it('returns "nothing returned" as an empty result, counted as a success', async () => {
      start({ id: stub.openSession(), breakerThreshold: 1 });
      expect(await mam.search({ text: 'no such book' })).to.deep.equal({ total: 0, results: [] });
      expect(runtime!.status('mam')!.counters).to.deep.equal({ ok: 1, failed: 0, rejected: 0 });
    });

    it('refuses a bad query with DEP_REJECTED without calling MAM', async () => {
      start({ id: stub.openSession() });
      const bad = [{ text: '  ' }, { text: 'x'.repeat(257) }, { text: 'weir', srchIn: ['everything'] }, { text: 'weir', page: -1 }, { text: 'weir', page: 1.5 }];
      for (const query of bad) {
        expect(await failureOf(mam.search(query as never)), JSON.stringify(query)).to.deep.include({ code: 'DEP_REJECTED', retriable: false });
      }
      expect(stub.server.calls).to.deep.equal([]);
    });

    it('fails with a permanent DEP_BAD_RESPONSE when the answer breaks the schema', async () => {
      start({ id: stub.openSession() });
      stub.server.failNext({ kind: 'body', body: JSON.stringify({ data: [{ id: 'abc', title: 7 }] }) });
      stub.server.failNext({ kind: 'body', body: JSON.stringify({ data: [{ id: 1, title: 't', size: 'huge', seeders: 1 }] }) });
      for (let i = 0; i < 2; i++) expect(await failureOf(mam.search({ text: 'weir' }))).to.deep.include({ code: 'DEP_BAD_RESPONSE', retriable: false });
    });
  });

  describe('session', () => {
    it('logs in once for 20 concurrent searches with an expired session, then sends the newest cookie every time', async () => {
      const expired = stub.openSession();
      stub.expireSession();
      start({ id: expired });
      const results = await Promise.all(Array.from({ length: 20 }, () => mam.search({ text: 'hail mary' })));

      expect(results.every((r) => r.results[0]?.id === PROJECT_HAIL_MARY.id)).to.equal(true);
      expect(stub.logins).to.equal(1);
      expect(stub.searches).to.have.length(21);
      expect(stub.searches[0]).to.deep.include({ cookie: expired, status: 403 });
      const later = stub.searches.slice(1);
      expect(later.every((s) => s.status === 200 && s.cookie === s.valid)).to.equal(true);
      // Each search carries the cookie issued just before it: the login's, then each answer's.
      expect(later.map((s) => s.cookie)).to.deep.equal(stub.issued.slice(1, 21));
    });

    it('keeps the cookie in the NATS KV bucket, so a restarted actor does not log in again', async () => {
      const nats = await TestNats.start();
      const connections: NatsConnection[] = [];
      const store = async () => {
        const nc = await connect({ servers: nats.url });
        connections.push(nc);
        const { sessions } = await ensureBuckets(nc, [], { statusTtlMs: 60_000, replicas: 1 });
        return kvSessionStore(async () => sessions);
      };
      try {
        start({}, { sessions: await store() });
        await mam.search({ text: 'weir' });
        await mam.search({ text: 'martian' });
        expect(stub.logins).to.equal(1);
        await runtime!.stop();

        start({ id: 'stale-cookie-from-the-environment' }, { sessions: await store() });
        expect((await mam.search({ text: 'artemis' })).results.map((r) => r.title)).to.deep.equal(['Artemis']);
        expect(stub.logins, 'logins after the restart').to.equal(1);
        expect(stub.searches.map((s) => s.status)).to.deep.equal([200, 200, 200]);
        const saved = await (await new Kvm(connections[0]!).open('sessions')).get('mam');
        expect(saved?.string()).to.equal(stub.valid);
      } finally {
        for (const nc of connections) await nc.close();
        await nats.dispose();
      }
    });

    it('replaces the cookie in the NATS KV bucket only while it holds the expected one', async () => {
      const nats = await TestNats.start();
      const nc = await connect({ servers: nats.url });
      try {
        const { sessions } = await ensureBuckets(nc, [], { statusTtlMs: 60_000, replicas: 1 });
        const store = kvSessionStore(async () => sessions);
        expect(await store.replace('a', 'b'), 'nothing saved, not a').to.equal(false);
        expect(await store.replace(undefined, 'a'), 'nothing saved, as expected').to.equal(true);
        expect(await store.replace(undefined, 'x'), 'a is saved now').to.equal(false);
        expect(await store.replace('a', 'b')).to.equal(true);
        expect(await store.load()).to.equal('b');
      } finally {
        await nc.close();
        await nats.dispose();
      }
    });

    it('lets a search that timed out during the login leave it to the next search, which does not log in again', async () => {
      const expired = stub.openSession();
      stub.expireSession();
      start({ id: expired, timeoutMs: 2000 }, { loginTimeoutMs: 5000 });
      // The 403 search and the login page answer; the form submission hangs until the browser gives up.
      stub.server.failNext({ kind: 'ok' }, 2);
      stub.server.failNext({ kind: 'hang' });
      const waiting = [track(mam.search({ text: 'weir' })), track(mam.search({ text: 'weir' }))];
      await waitFor('both searches to time out', () => waiting.every((c) => c.settled));
      expect(waiting.map((c) => (c.error as DependencyError).code)).to.deep.equal(['DEP_TIMEOUT', 'DEP_TIMEOUT']);
      const submissions = () => stub.server.calls.filter((c) => c.path === '/takelogin.php');
      await waitFor('the browser to give up the hanging login', () => submissions()[0]?.outcome === 'aborted');
      expect(stub.server.calls.filter((c) => c.path === '/login.php'), 'logins started').to.have.length(1);
      expect(submissions()).to.have.length(1);

      expect((await mam.search({ text: 'weir' })).total).to.equal(3);
      expect(submissions()).to.have.length(2);
      expect(stub.logins).to.equal(1);
      expect(stub.searches.map((s) => s.status)).to.deep.equal([403, 200]);
    });

    it('owning MAM again after another instance did, searches with the cookie that instance saved, not its own old one', async () => {
      const sessions = memorySessionStore(stub.openSession());
      const settings: DependenciesConfig['mam'] = { ...MAM_DEFAULTS, url: stub.url, rate: 1000, burst: 100, id: undefined, email: undefined, password: undefined };
      const noLogin = { submitForm: () => Promise.reject(new Error('no login expected')), close: () => Promise.resolve() };
      const started = startDependencies({ mam: mamDependency(settings, { login: noLogin, sessions }) }, { deferred: ['mam'] });
      runtime = started;
      started.acquire('mam');
      await started.deps.mam.search({ text: 'weir' });
      started.release('mam', 'lease passed to another instance');
      // The other owner searches meanwhile: MAM rotates the cookie, and it saves the new one.
      const other = startDependencies({ mam: mamDependency(settings, { login: noLogin, sessions }) });
      await other.deps.mam.search({ text: 'weir' });
      await other.stop();
      started.acquire('mam');
      await waitFor('the actor back', () => started.status('mam')?.activity !== 'elsewhere');
      expect((await started.deps.mam.search({ text: 'weir' })).total).to.equal(3);
      expect(stub.searches.map((s) => s.status), 'no search with a stale cookie').to.deep.equal([200, 200, 200]);
    });

    describe('an owner cut off from the store while it still reaches MAM', () => {
      const settingsWithoutLogin = (): DependenciesConfig['mam'] => ({ ...MAM_DEFAULTS, url: stub.url, rate: 1000, burst: 100, id: undefined, email: undefined, password: undefined });
      const noLogin = { submitForm: () => Promise.reject(new Error('no login expected')), close: () => Promise.resolve() };
      let other: Runtime | undefined;
      afterEach(async () => {
        await other?.stop();
        other = undefined;
      });

      /** `shared` as the cut-off owner sees it: unreachable while `cut.off`, counting its conditional writes. */
      function cutOffStore(shared: SessionStore) {
        const cut = { off: false, replaces: 0 };
        const unreachable = () => Promise.reject(new Error('TIMEOUT: no route to NATS'));
        const store: SessionStore = {
          load: () => (cut.off ? unreachable() : shared.load()),
          save: (c) => (cut.off ? unreachable() : shared.save(c)),
          replace: (expected, c) => {
            cut.replaces++;
            return cut.off ? unreachable() : shared.replace(expected, c);
          },
        };
        return { cut, store };
      }

      /** Owner A searches once while cut off: MAM rotates its cookie, and A cannot save the new one. Then another instance owns MAM. */
      async function rotateWhileCutOff(shared: SessionStore) {
        const { cut, store } = cutOffStore(shared);
        const a = startDependencies({ mam: mamDependency(settingsWithoutLogin(), { login: noLogin, sessions: store }) }, { deferred: ['mam'] });
        runtime = a;
        a.acquire('mam');
        await a.deps.mam.search({ text: 'weir' });
        cut.off = true;
        await a.deps.mam.search({ text: 'weir' });
        a.release('mam', 'lease lost while cut off from NATS');
        return cut;
      }

      it('saves MAM\'s newest cookie once it reaches the store again, and the next owner without credentials waits for it instead of failing for good', async () => {
        const shared = memorySessionStore(stub.openSession());
        const cut = await rotateWhileCutOff(shared);
        expect(await shared.load(), 'the store still holds a cookie MAM refuses').to.not.equal(stub.valid);
        other = startDependencies({ mam: mamDependency(settingsWithoutLogin(), { login: noLogin, sessions: shared }) });
        const error = await failureOf(other.deps.mam.search({ text: 'weir' }));
        expect(error, 'a retriable failure: the webhook comes back').to.deep.include({ code: 'DEP_UNAVAILABLE', retriable: true });
        expect(error.retryAfterMs).to.be.a('number');
        cut.off = false;
        await waitFor('the cut-off owner to save its cookie', async () => (await shared.load()) === stub.valid, { timeoutMs: 10_000 });
        expect((await other.deps.mam.search({ text: 'weir' })).total).to.equal(3);
        expect(stub.searches.map((s) => s.status), 'the refused cookie was sent once').to.deep.equal([200, 200, 403, 200]);
        expect(stub.logins).to.equal(0);
      });

      it('never replaces a cookie another owner saved meanwhile with its own late one', async () => {
        const shared = memorySessionStore(stub.openSession());
        const cut = await rotateWhileCutOff(shared);
        const late = stub.valid;
        // The next owner logged in and saved MAM's newest session.
        const newest = stub.openSession();
        await shared.save(newest);
        const tried = cut.replaces;
        cut.off = false;
        await waitFor('the cut-off owner to offer its cookie again', () => cut.replaces > tried, { timeoutMs: 10_000 });
        expect(await shared.load()).to.equal(newest).and.not.equal(late);
      });
    });

    it('tries the newer stored cookie once when MAM refuses its own, before MAM_ID or a login', async () => {
      const sessions = memorySessionStore(stub.openSession());
      start({ id: undefined, email: undefined, password: undefined }, { sessions });
      await mam.search({ text: 'weir' });
      // Another process searched and saved MAM's newest cookie after this one read the store.
      const newer = stub.openSession();
      await sessions.save(newer);
      expect((await mam.search({ text: 'weir' })).total).to.equal(3);
      expect(stub.searches.map((s) => s.status)).to.deep.equal([200, 403, 200]);
      expect(stub.logins).to.equal(0);
    });

    it('fails permanently without a session or credentials, sending nothing', async () => {
      start({ email: undefined, password: undefined });
      const error = await failureOf(mam.search({ text: 'weir' }));
      expect(error).to.deep.include({ code: 'DEP_REJECTED', retriable: false });
      expect(error.message).to.include('MAM_ID').and.include('MAM_EMAIL');
      expect(stub.server.calls).to.deep.equal([]);
    });

    it('fails permanently when MAM refuses MAM_ID and there are no credentials', async () => {
      start({ id: 'revoked', email: undefined, password: undefined });
      expect(await failureOf(mam.search({ text: 'weir' }))).to.deep.include({ code: 'DEP_REJECTED', retriable: false });
      expect(stub.searches.map((s) => s.status)).to.deep.equal([403]);
    });

    it('fails permanently when MAM refuses the login, and does not try it again', async () => {
      start({ password: 'wrong' });
      for (let i = 0; i < 2; i++) {
        const error = await failureOf(mam.search({ text: 'weir' }));
        expect(error).to.deep.include({ code: 'DEP_REJECTED', retriable: false });
        expect(error.message).to.include('MAM_PASSWORD');
      }
      expect(stub.loginAttempts).to.equal(1);
      expect(stub.searches).to.deep.equal([]);
      expect(runtime!.status('mam')!.state).to.equal('closed');
    });
  });

  describe('failure classification', () => {
    it('classifies 500 as DEP_SERVER_ERROR and a reset as DEP_UNAVAILABLE, both retriable, and keeps the session', async () => {
      start({ id: stub.openSession() });
      stub.server.failNext({ kind: 'status', status: 500 });
      stub.server.failNext({ kind: 'reset' });
      const errors = await Promise.all([1, 2].map(() => failureOf(mam.search({ text: 'weir' }))));
      expect(errors.map((e) => [e.code, e.retriable])).to.deep.equal([
        ['DEP_SERVER_ERROR', true],
        ['DEP_UNAVAILABLE', true],
      ]);
      expect((await mam.search({ text: 'weir' })).total, 'the session survived the failures').to.equal(3);
      expect(stub.logins).to.equal(0);
    });
  });
});

describeRuntimeGuarantees({
  name: 'mam',
  startStub: startMamStub,
  server: (stub) => stub.server,
  start(stub, limits) {
    const settings: DependenciesConfig['mam'] = { ...MAM_DEFAULTS, url: stub.url, rate: 1000, burst: 100, id: stub.openSession(), email: undefined, password: undefined, ...limits };
    const noLogin = {
      submitForm: () => Promise.reject(new Error('these calls keep a valid session: nothing may log in')),
      close: () => Promise.resolve(),
    };
    const runtime = startDependencies({ mam: mamDependency(settings, { login: noLogin }) });
    return { runtime, call: () => runtime.deps.mam.search({ text: 'weir' }) };
  },
  startsCall: (call) => call.path === SEARCH_PATH,
  // MAM replaces the session cookie on every answer.
  concurrency: 1,
});
