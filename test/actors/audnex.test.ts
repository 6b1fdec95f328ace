import { expect } from 'chai';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { AnyActorRef } from 'xstate';
import { audnexDependency, type AudnexHandle } from '../../actors/audnex.js';
import { DEPENDENCY_DEFAULTS, type HttpDependencySettings } from '../../src/config/dependencies.js';
import type { DependencyError } from '../../src/runtime/errors.js';
import { startDependencies, type DependencyRuntime } from '../../src/runtime/runtime.js';
import type { DependencyDefinition } from '../../src/runtime/definition.js';
import { track } from '../helpers/controlledDependency.js';
import { waitFor } from '../helpers/waitFor.js';
import { ANDY_WEIR, HAIL_MARY_CHAPTERS, PROJECT_HAIL_MARY, startAudnexStub } from '../stubs/audnex.js';
import type { StubServer } from '../stubs/stubServer.js';
import { failureOf, codeOf } from '../helpers/outcomes.js';

const ASIN = PROJECT_HAIL_MARY.asin;
// Timer lateness and loopback latency on top of an exact deadline.
const TOLERANCE_MS = 5;

describe('audnex actor', () => {
  let stub: StubServer;
  let runtime: DependencyRuntime<{ audnex: DependencyDefinition<AudnexHandle> }>;
  let audnex: AudnexHandle;

  function start(overrides: Partial<HttpDependencySettings> = {}) {
    const settings = { ...DEPENDENCY_DEFAULTS.audnex, rate: 1000, burst: 100, url: stub.url, ...overrides };
    runtime = startDependencies({ audnex: audnexDependency(settings) }, { restart: { baseDelayMs: 50 } });
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

    it('aborts a hanging request after timeoutMs with DEP_TIMEOUT', async () => {
      start({ timeoutMs: 200 });
      stub.failNext({ kind: 'hang' });
      const began = performance.now();
      expect(await codeOf(audnex.getBook(ASIN))).to.equal('DEP_TIMEOUT');
      expect(performance.now() - began).to.be.within(200 - TOLERANCE_MS, 1000);
      await waitFor('the stub to see the request aborted', () => stub.calls[0]?.outcome === 'aborted');
    });

    it('sends nothing before a 429 Retry-After has passed', async () => {
      start({ concurrency: 3 });
      stub.failNext({ kind: 'rateLimit', retryAfter: '1' });
      const limited = await failureOf(audnex.getBook(ASIN));
      expect(limited).to.deep.include({ code: 'DEP_RATE_LIMITED', retryAfterMs: 1000, retriable: true });
      const answeredAt = stub.calls[0]!.endedAt!;
      const later = await Promise.all([audnex.getBook(ASIN), audnex.getAuthor(ANDY_WEIR.asin)]);
      expect(later.every((r) => r.found)).to.equal(true);
      for (const call of stub.calls.slice(1)) expect(call.startedAt - answeredAt).to.be.at.least(1000 - TOLERANCE_MS);
    });
  });

  describe('pacing', () => {
    it('keeps 50 concurrent callers within the concurrency limit and the rate', async () => {
      const rate = 20;
      start({ rate, burst: 1, concurrency: 2, maxQueue: 100 });
      // The process's first fetch loads undici (tens of ms): warm it up so it does not skew the first gap.
      await audnex.getBook(ASIN);
      stub.clearRecords();
      const actorStarts: number[] = [];
      runtime.subscribe((e) => e.type === 'dep.callStarted' && actorStarts.push(e.at));
      // Answers take longer than two call intervals, so only the limit keeps concurrency at 2.
      stub.answerDelayMs = 120;
      // The stub shares this process's event loop: a stall (GC, a busy CPU) between the actor starting
      // a call and the request reaching the stub shortens the gap the stub sees by up to that stall.
      const loop = monitorEventLoopDelay({ resolution: 1 });
      loop.enable();

      const results = await Promise.all(Array.from({ length: 50 }, () => audnex.getBook(ASIN)));
      loop.disable();
      const stallMs = loop.max / 1e6;

      expect(results.every((r) => r.found)).to.equal(true);
      expect(stub.calls).to.have.length(50);
      expect(stub.maxConcurrency).to.equal(2);
      const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]!);
      expect(Math.min(...gaps(actorStarts)), 'spacing of the starts the actor decided').to.be.at.least(1000 / rate);
      const stubStarts = stub.calls.map((c) => c.startedAt).sort((a, b) => a - b);
      expect(Math.min(...gaps(stubStarts)), `spacing seen by the stub (event-loop stall ${stallMs.toFixed(1)} ms)`).to.be.at.least(
        1000 / rate - TOLERANCE_MS - stallMs,
      );
    });
  });

  describe('breaker', () => {
    it('sends a failing Audnex at most threshold calls plus one probe per cool-down, then recovers', async () => {
      const threshold = 3;
      const cooldown = 200;
      const windowMs = 1200;
      start({ breakerThreshold: threshold, breakerCooldownMs: cooldown, breakerMaxCooldownMs: cooldown });
      stub.setMode({ kind: 'status', status: 503 });
      const windowStart = performance.now();
      const outcomes: Promise<string>[] = [];
      const load = setInterval(() => outcomes.push(codeOf(audnex.getBook(ASIN))), 5);
      await waitFor('the window to pass', () => performance.now() - windowStart >= windowMs, { timeoutMs: windowMs + 1000, intervalMs: 10 });
      clearInterval(load);

      const sent = stub.callsBetween(windowStart, windowStart + windowMs);
      expect(sent.length).to.be.at.most(threshold + Math.floor(windowMs / cooldown));
      expect(sent.length, 'probes went out').to.be.at.least(threshold + 2);
      const probeStarts = sent.slice(threshold).map((c) => c.startedAt);
      const probeGaps = probeStarts.slice(1).map((t, i) => t - probeStarts[i]!);
      expect(Math.min(...probeGaps)).to.be.at.least(cooldown - TOLERANCE_MS);
      const codes = await Promise.all(outcomes);
      expect(codes.filter((c) => c === 'DEP_CIRCUIT_OPEN').length).to.be.greaterThan(outcomes.length / 2);

      stub.setMode({ kind: 'ok' });
      await waitFor('the breaker to let a probe through', () => runtime.availability('audnex').accepting, { timeoutMs: 2000 });
      expect(await codeOf(audnex.getBook(ASIN))).to.equal('resolved');
      expect(runtime.status('audnex')!.state).to.equal('closed');
      const later = await Promise.all(Array.from({ length: 20 }, () => codeOf(audnex.getBook(ASIN))));
      expect(later.every((c) => c === 'resolved')).to.equal(true);
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
