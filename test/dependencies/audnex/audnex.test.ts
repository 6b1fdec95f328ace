import { expect } from 'chai';
import type { AnyActorRef } from 'xstate';
import { audnexDependency, type AudnexHandle } from '../../../src/dependencies/audnex/audnex.js';
import type { HttpDependencySettings } from '../../../src/dependencies/settings.js';
import { AUDNEX_DEFAULTS } from '../../../src/dependencies/audnex/settings.js';
import type { DependencyError } from '../../../src/dependencies/runtime/errors.js';
import { startDependencies, type DependencyRuntime } from '../../../src/dependencies/runtime/runtime.js';
import type { DependencyDefinition } from '../../../src/dependencies/runtime/definition.js';
import { track } from '../../helpers/controlledDependency.js';
import { waitFor } from '../../helpers/waitFor.js';
import { ANDY_WEIR, HAIL_MARY_CHAPTERS, PROJECT_HAIL_MARY, startAudnexStub } from '../../stubs/audnex.js';
import type { StubServer } from '../../stubs/stubServer.js';
import { failureOf, codeOf } from '../../helpers/outcomes.js';
import { describeRuntimeGuarantees } from '../../helpers/dependencyGuarantees.js';

const ASIN = PROJECT_HAIL_MARY.asin;

/** Audnex settings over a stub: fast pacing unless a test says otherwise. */
const settingsFor = (stub: StubServer, overrides: Partial<HttpDependencySettings> = {}): HttpDependencySettings =>
  ({ ...AUDNEX_DEFAULTS, rate: 1000, burst: 100, url: stub.url, ...overrides });

describe('audnex actor', () => {
  let stub: StubServer;
  let runtime: DependencyRuntime<{ audnex: DependencyDefinition<AudnexHandle> }>;
  let audnex: AudnexHandle;

  function start(overrides: Partial<HttpDependencySettings> = {}) {
    runtime = startDependencies({ audnex: audnexDependency(settingsFor(stub, overrides)) }, { restart: { baseDelayMs: 50 } });
    audnex = runtime.deps.audnex;
  }

  beforeEach(async () => {
    stub = await startAudnexStub();
  });
  afterEach(async () => {
    await runtime?.stop();
    await stub.close();
  });

  describe('wire format', () => {
    it('returns the book, its author and its chapters, typed and validated', async () => {
      start();
      expect(await audnex.getBook(ASIN.toLowerCase())).to.deep.equal({ found: true, value: PROJECT_HAIL_MARY });
      expect(await audnex.getAuthor(ANDY_WEIR.asin)).to.deep.equal({ found: true, value: ANDY_WEIR });
      expect(await audnex.getChapters(ASIN)).to.deep.equal({ found: true, value: HAIL_MARY_CHAPTERS });
      expect(stub.calls.map((c) => [c.path, c.query.region])).to.deep.equal([
        [`/books/${ASIN}`, 'us'],
        [`/authors/${ANDY_WEIR.asin}`, 'us'],
        [`/books/${ASIN}/chapters`, 'us'],
      ]);
    });

    it('returns not found for an unknown ASIN, and counts it as a success', async () => {
      start({ breakerThreshold: 1 });
      expect(await audnex.getBook('B000000000')).to.deep.equal({ found: false, key: 'B000000000' });
      expect(runtime.status('audnex')).to.deep.include({ state: 'closed' });
      expect(runtime.status('audnex')!.counters).to.deep.equal({ ok: 1, failed: 0, rejected: 0 });
    });

    it('refuses a malformed ASIN with DEP_REJECTED without calling Audnex', async () => {
      start();
      expect(await codeOf(audnex.getBook('not-an-asin'))).to.equal('DEP_REJECTED');
      expect(await codeOf(audnex.getBook('../admin'))).to.equal('DEP_REJECTED');
      expect(stub.calls).to.have.length(0);
    });

    it('fails with DEP_BAD_RESPONSE, permanent, when the body breaks the schema', async () => {
      start({ breakerThreshold: 1 });
      stub.failNext({ kind: 'body', body: JSON.stringify({ asin: ASIN, title: 42 }) });
      stub.failNext({ kind: 'body', body: '<html>maintenance</html>' });
      const error = await failureOf(audnex.getBook(ASIN));
      expect(error).to.deep.include({ code: 'DEP_BAD_RESPONSE', retriable: false });
      expect(await codeOf(audnex.getBook(ASIN))).to.equal('DEP_BAD_RESPONSE');
      expect(runtime.status('audnex')!.state).to.equal('closed');
    });
  });

  describe('failure classification', () => {
    it('classifies 500 as DEP_SERVER_ERROR, a reset as DEP_UNAVAILABLE and 400 as DEP_REJECTED', async () => {
      start();
      stub.failNext({ kind: 'status', status: 500 });
      stub.failNext({ kind: 'reset' });
      stub.failNext({ kind: 'status', status: 400 });
      const errors = await Promise.all([1, 2, 3].map(() => failureOf(audnex.getBook(ASIN))));
      expect(errors.map((e) => [e.code, e.retriable])).to.deep.equal([
        ['DEP_SERVER_ERROR', true],
        ['DEP_UNAVAILABLE', true],
        ['DEP_REJECTED', false],
      ]);
    });
  });

  describe('supervision', () => {
    it('restarts a crashed actor; its pending callers get DEP_ACTOR_RESTARTED and later calls succeed', async () => {
      start({ concurrency: 1 });
      stub.answerDelayMs = 50;
      const actor = runtime.supervisor.system.get('audnex') as AnyActorRef;
      // A reply channel that throws stands in for a bug in code the actor runs.
      const boom = () => {
        throw new Error('bug in the actor');
      };
      actor.send({ type: 'dep.call', request: { kind: 'book', asin: ASIN, region: 'us' }, reply: { resolve: boom, reject: boom } });
      const pending = track(audnex.getBook(ASIN));
      await waitFor('the crash', () => pending.settled);
      expect((pending.error as DependencyError).code).to.equal('DEP_ACTOR_RESTARTED');
      await waitFor('the restart', () => runtime.status('audnex')?.restarts === 1 && runtime.availability('audnex').accepting);
      expect(runtime.supervisor.system.get('audnex')).to.not.equal(actor);
      expect(await audnex.getBook(ASIN)).to.deep.equal({ found: true, value: PROJECT_HAIL_MARY });
    });
  });
});

describeRuntimeGuarantees({
  name: 'audnex',
  startStub: startAudnexStub,
  server: (stub) => stub,
  start(stub, limits) {
    const runtime = startDependencies({ audnex: audnexDependency(settingsFor(stub, limits)) });
    return { runtime, call: () => runtime.deps.audnex.getBook(ASIN) };
  },
});
