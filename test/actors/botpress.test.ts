import { expect } from 'chai';
import { performance } from 'node:perf_hooks';
import { botpressDependency, type BotpressHandle, type BotpressSettings } from '../../actors/botpress.js';
import { pollDelayMs, systemClock, type PollClock } from '../../actors/botpressIndexing.js';
import { DEPENDENCY_DEFAULTS } from '../../src/config/dependencies.js';
import type { DependencyDefinition } from '../../src/runtime/definition.js';
import { startDependencies, type DependencyRuntime } from '../../src/runtime/runtime.js';
import { waitFor } from '../helpers/waitFor.js';
import { startBotpressStub, type BotpressStub } from '../stubs/botpress.js';
import type { StubMode } from '../stubs/stubServer.js';
import { failureOf, codeOf } from '../helpers/outcomes.js';

// Timer lateness and loopback latency on top of an exact deadline.
const TOLERANCE_MS = 5;
const KB = 'kb-5f2c1a';
const NOTES = 'Project Hail Mary: narrated by Ray Porter, 16 h 10 min.';

/** A clock whose sleeps return at once and move its time on; it records them. */
function virtualClock(onSleep: (index: number) => void = () => {}): PollClock & { sleeps: number[] } {
  let now = Date.now();
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      onSleep(sleeps.length);
      sleeps.push(ms);
      now += ms;
    },
  };
}

describe('botpress actor', () => {
  let stub: BotpressStub;
  let runtime: DependencyRuntime<{ botpress: DependencyDefinition<BotpressHandle> }>;
  let botpress: BotpressHandle;
  let clock: ReturnType<typeof virtualClock>;

  function start(overrides: Partial<BotpressSettings> = {}, pollClock: PollClock = clock) {
    const settings = {
      ...DEPENDENCY_DEFAULTS.botpress,
      url: stub.server.url,
      token: 'bp-token',
      botId: 'bot-1',
      indexTimeoutMs: 30_000,
      rate: 1000,
      burst: 100,
      ...overrides,
    } as BotpressSettings;
    runtime = startDependencies({ botpress: botpressDependency(settings, { clock: pollClock }) }, { restart: { baseDelayMs: 50 } });
    botpress = runtime.deps.botpress;
  }
  const paths = () => stub.server.calls.map((c) => `${c.method} ${c.path.replace(/file_\w+/, '{id}')}`);

  beforeEach(async () => {
    stub = await startBotpressStub();
    clock = virtualClock();
  });
  afterEach(async () => {
    await runtime?.stop();
    await stub.close();
  });

  describe('wire format', () => {
    it('upserts the file with indexing on in the knowledge base, PUTs its content, and returns once it is indexed', async () => {
      start();
      const result = await botpress.addToKnowledgeBase(KB, 'books/B08G9PRS1K.txt', NOTES);
      const stored = stub.files.get('books/B08G9PRS1K.txt')!;
      expect(result).to.deep.equal({ fileId: stored.id, key: 'books/B08G9PRS1K.txt', kbId: KB, status: 'indexing_completed', polls: 2 });
      expect(stored).to.deep.include({
        content: NOTES,
        size: Buffer.byteLength(NOTES),
        contentType: 'text/plain',
        index: true,
        status: 'indexing_completed',
        tags: { source: 'knowledge-base', kbId: KB, title: 'books/B08G9PRS1K.txt' },
      });
      expect(paths()).to.deep.equal(['PUT /v1/files', 'PUT /upload/{id}', 'GET /v1/files/{id}', 'GET /v1/files/{id}']);
    });

    it('upserting the same key twice leaves one file, holding the second content', async () => {
      start();
      const first = await botpress.addToKnowledgeBase(KB, 'notes.md', '# First', { contentType: 'text/markdown', title: 'Notes' });
      const second = await botpress.addToKnowledgeBase(KB, 'notes.md', '# Second', { contentType: 'text/markdown', title: 'Notes' });
      expect(second.fileId).to.equal(first.fileId);
      expect([...stub.files.keys()]).to.deep.equal(['notes.md']);
      expect(stub.files.get('notes.md')).to.deep.include({ content: '# Second', contentType: 'text/markdown', status: 'indexing_completed' });
    });

    it('refuses empty arguments and missing credentials with DEP_REJECTED, sending nothing', async () => {
      start();
      expect(await codeOf(botpress.addToKnowledgeBase('', 'a.txt', NOTES))).to.equal('DEP_REJECTED');
      expect(await codeOf(botpress.addToKnowledgeBase(KB, ' ', NOTES))).to.equal('DEP_REJECTED');
      expect(await codeOf(botpress.addToKnowledgeBase(KB, 'a.txt', ''))).to.equal('DEP_REJECTED');
      await runtime.stop();
      start({ token: undefined });
      expect(await codeOf(botpress.addToKnowledgeBase(KB, 'a.txt', NOTES))).to.equal('DEP_REJECTED');
      expect(stub.server.calls).to.have.length(0);
    });
  });

  describe('indexing wait', () => {
    it('Botpress polling intervals follow the backoff', async () => {
      stub.pollsUntilIndexed = 9;
      start();
      const result = await botpress.addToKnowledgeBase(KB, 'a.txt', NOTES);
      expect(result.polls).to.equal(9);
      expect(clock.sleeps).to.deep.equal([500, 750, 1125, 1687.5, 2531.25, 3796.875, 4000, 4000, 4000]);
      expect(stub.server.calls.filter((c) => c.method === 'GET')).to.have.length(9);
    });

    it('gives up when BOTPRESS_INDEX_TIMEOUT_MS has passed, with a retriable DEP_TIMEOUT', async () => {
      stub.pollsUntilIndexed = 1000;
      start({ indexTimeoutMs: 30_000 });
      const error = await failureOf(botpress.addToKnowledgeBase(KB, 'a.txt', NOTES));
      expect(error).to.deep.include({ code: 'DEP_TIMEOUT', retriable: true });
      expect(error.message).to.contain('indexing_pending');
      // The last wait is cut short so that one poll lands on the deadline.
      expect(clock.sleeps.reduce((a, b) => a + b, 0)).to.equal(30_000);
      expect(clock.sleeps.slice(0, -1)).to.deep.equal(clock.sleeps.slice(0, -1).map((_, i) => pollDelayMs(i)));
      expect(stub.server.calls.filter((c) => c.method === 'GET')).to.have.length(clock.sleeps.length);
    });

    it('fails permanently with DEP_REJECTED when indexing fails', async () => {
      stub.failIndexing = 'Unsupported file format';
      start();
      const error = await failureOf(botpress.addToKnowledgeBase(KB, 'a.bin', NOTES));
      expect(error).to.deep.include({ code: 'DEP_REJECTED', retriable: false });
      expect(error.message).to.contain('Unsupported file format');
    });

    it('waits out a retriable poll failure and goes on polling', async () => {
      clock = virtualClock((i) => i === 0 && stub.server.failNext({ kind: 'status', status: 503 }));
      start();
      const result = await botpress.addToKnowledgeBase(KB, 'a.txt', NOTES);
      expect(result.status).to.equal('indexing_completed');
      expect(stub.server.calls.filter((c) => c.method === 'GET').map((c) => c.status)).to.deep.equal([503, 200, 200]);
    });

    it('waits between polls without holding the actor slot', async () => {
      stub.pollsUntilIndexed = 1;
      start({ concurrency: 1 }, systemClock);
      const [a, b] = await Promise.all([botpress.addToKnowledgeBase(KB, 'a.txt', NOTES), botpress.addToKnowledgeBase(KB, 'b.txt', NOTES)]);
      const firstPollOfA = stub.server.calls.find((c) => c.path === `/v1/files/${a.fileId}`)!;
      const upsertOfB = stub.server.calls.filter((c) => c.path === '/v1/files')[1]!;
      expect(b.status).to.equal('indexing_completed');
      expect(upsertOfB.startedAt, "b's upload went out during a's wait").to.be.lessThan(firstPollOfA.startedAt);
      expect(firstPollOfA.startedAt - stub.server.calls[0]!.startedAt).to.be.at.least(500 - TOLERANCE_MS);
    });

    it('sends each poll through the actor, paced by its rate', async () => {
      stub.pollsUntilIndexed = 3;
      const rate = 10;
      start({ rate, burst: 1 });
      const starts: number[] = [];
      runtime.subscribe((e) => e.type === 'dep.callStarted' && starts.push(e.at));
      await botpress.addToKnowledgeBase(KB, 'a.txt', NOTES);
      expect(starts).to.have.length(4);
      const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
      expect(Math.min(...gaps)).to.be.at.least(1000 / rate);
    });
  });

  describe('failure classification', () => {
    it('classifies 500 as DEP_SERVER_ERROR, a reset as DEP_UNAVAILABLE, 400 as DEP_REJECTED and a malformed answer as DEP_BAD_RESPONSE', async () => {
      start();
      const failWith = async (mode: StubMode) => {
        stub.server.failNext(mode);
        return failureOf(botpress.addToKnowledgeBase(KB, 'a.txt', NOTES));
      };
      const errors = [
        await failWith({ kind: 'status', status: 500, body: { id: 'err_1', code: 500, type: 'Internal', message: 'boom' } }),
        await failWith({ kind: 'reset' }),
        await failWith({ kind: 'status', status: 400, body: { id: 'err_2', code: 400, type: 'InvalidPayload', message: 'bad key' } }),
        await failWith({ kind: 'body', body: JSON.stringify({ file: { id: 'file_1' } }) }),
      ];
      expect(errors.map((e) => [e.code, e.retriable])).to.deep.equal([
        ['DEP_SERVER_ERROR', true],
        ['DEP_UNAVAILABLE', true],
        ['DEP_REJECTED', false],
        ['DEP_BAD_RESPONSE', false],
      ]);
    });

    it('refuses a wrong token with DEP_REJECTED', async () => {
      start({ token: 'expired' });
      const error = await failureOf(botpress.addToKnowledgeBase(KB, 'a.txt', NOTES));
      expect(error).to.deep.include({ code: 'DEP_REJECTED', upstreamStatus: 401 });
    });

    it('fails a refused content upload as retriable, and the retry reuses the file', async () => {
      start();
      stub.server.failNext({ kind: 'ok' });
      stub.server.failNext({ kind: 'status', status: 503 });
      expect(await codeOf(botpress.addToKnowledgeBase(KB, 'a.txt', NOTES))).to.equal('DEP_SERVER_ERROR');
      expect(stub.files.get('a.txt')!.status).to.equal('upload_pending');
      expect((await botpress.addToKnowledgeBase(KB, 'a.txt', NOTES)).status).to.equal('indexing_completed');
      expect(stub.files.size).to.equal(1);
    });

    it('aborts a hanging request after timeoutMs with DEP_TIMEOUT', async () => {
      start({ timeoutMs: 200 });
      stub.server.failNext({ kind: 'hang' });
      const began = performance.now();
      expect(await codeOf(botpress.addToKnowledgeBase(KB, 'a.txt', NOTES))).to.equal('DEP_TIMEOUT');
      expect(performance.now() - began).to.be.within(200 - TOLERANCE_MS, 1000);
      const hung = await waitFor('the stub to see the request aborted', () => stub.server.calls.find((c) => c.outcome === 'aborted'));
      expect(hung.endedAt! - hung.startedAt, 'aborted by the actor, not by a client timeout').to.be.below(1000);
    });

    it('sends nothing before a 429 Retry-After has passed', async () => {
      start({ concurrency: 3 });
      stub.server.failNext({ kind: 'rateLimit', retryAfter: '1' });
      const limited = await failureOf(botpress.addToKnowledgeBase(KB, 'a.txt', NOTES));
      expect(limited).to.deep.include({ code: 'DEP_RATE_LIMITED', retryAfterMs: 1000, retriable: true });
      const answeredAt = stub.server.calls[0]!.endedAt!;
      const later = await Promise.all([botpress.addToKnowledgeBase(KB, 'a.txt', NOTES), botpress.addToKnowledgeBase(KB, 'b.txt', NOTES)]);
      expect(later.map((r) => r.status)).to.deep.equal(['indexing_completed', 'indexing_completed']);
      for (const call of stub.server.calls.slice(1)) expect(call.startedAt - answeredAt).to.be.at.least(1000 - TOLERANCE_MS);
    });
  });

  describe('runtime guarantees', () => {
    it('keeps concurrent uploads within the concurrency limit and the rate', async () => {
      const rate = 20;
      stub.pollsUntilIndexed = 1;
      start({ rate, burst: 1, concurrency: 2 });
      const starts: number[] = [];
      runtime.subscribe((e) => e.type === 'dep.callStarted' && starts.push(e.at));
      stub.server.answerDelayMs = 60;
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => botpress.addToKnowledgeBase(KB, `file-${i}.txt`, NOTES)));
      expect(results.every((r) => r.status === 'indexing_completed')).to.equal(true);
      expect(stub.files.size).to.equal(8);
      expect(stub.server.maxConcurrency).to.equal(2);
      const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
      expect(Math.min(...gaps)).to.be.at.least(1000 / rate);
    });

    it('opens the breaker after threshold failures, probes once per cool-down, then recovers', async () => {
      const threshold = 3;
      const cooldown = 200;
      start({ breakerThreshold: threshold, breakerCooldownMs: cooldown, breakerMaxCooldownMs: cooldown });
      stub.server.setMode({ kind: 'status', status: 503 });
      const windowStart = performance.now();
      const outcomes: Promise<string>[] = [];
      const load = setInterval(() => outcomes.push(codeOf(botpress.addToKnowledgeBase(KB, 'a.txt', NOTES))), 10);
      await waitFor('the window to pass', () => performance.now() - windowStart >= 800, { timeoutMs: 2000, intervalMs: 10 });
      clearInterval(load);
      const sent = stub.server.callsBetween(windowStart, windowStart + 800);
      expect(sent.length).to.be.within(threshold + 1, threshold + Math.floor(800 / cooldown));
      expect((await Promise.all(outcomes)).filter((c) => c === 'DEP_CIRCUIT_OPEN').length).to.be.greaterThan(outcomes.length / 2);

      stub.server.setMode({ kind: 'ok' });
      await waitFor('the breaker to let a probe through', () => runtime.availability('botpress').accepting, { timeoutMs: 2000 });
      expect((await botpress.addToKnowledgeBase(KB, 'a.txt', NOTES)).status).to.equal('indexing_completed');
      expect(runtime.status('botpress')!.state).to.equal('closed');
    });
  });
});
