import { expect } from 'chai';
import { botpressDependency, type BotpressHandle } from '../../../src/dependencies/botpress/botpress.js';
import type { BotpressSettings } from '../../../src/dependencies/botpress/settings.js';
import { pollDelayMs } from '../../../src/dependencies/botpress/indexing.js';
import { BOTPRESS_DEFAULTS } from '../../../src/dependencies/botpress/settings.js';
import type { DependencyDefinition } from '../../../src/dependencies/runtime/definition.js';
import { startDependencies, type DependencyRuntime } from '../../../src/dependencies/runtime/runtime.js';
import { describeRuntimeGuarantees } from '../../helpers/dependencyGuarantees.js';
import { callsParked, useFakeClock } from '../../helpers/fakeClock.js';
import { startBotpressStub, type BotpressStub } from '../../stubs/botpress.js';
import type { StubMode } from '../../stubs/stubServer.js';
import { failureOf, codeOf } from '../../helpers/outcomes.js';

const KB = 'kb-5f2c1a';
const NOTES = 'Project Hail Mary: narrated by Ray Porter, 16 h 10 min.';

/** Botpress settings over a stub: fast pacing unless a test says otherwise. */
const settingsFor = (stub: BotpressStub, overrides: Partial<BotpressSettings> = {}): BotpressSettings =>
  ({
    ...BOTPRESS_DEFAULTS,
    url: stub.server.url,
    token: 'bp-token',
    botId: 'bot-1',
    indexTimeoutMs: 30_000,
    rate: 1000,
    burst: 100,
    ...overrides,
  });

// Every upload waits for indexing between polls (500 ms, 750 ms, ...): the whole file runs on a fake clock.
describe('botpress actor', () => {
  let stub: BotpressStub;
  let runtime: DependencyRuntime<{ botpress: DependencyDefinition<BotpressHandle> }>;
  let botpress: BotpressHandle;
  const time = useFakeClock({ quiet: callsParked('botpress', () => runtime, () => stub?.server) });

  function start(overrides: Partial<BotpressSettings> = {}) {
    runtime = startDependencies({ botpress: botpressDependency(settingsFor(stub, overrides)) }, { restart: { baseDelayMs: 50 } });
    botpress = runtime.deps.botpress;
  }
  /** One upload, with the fake clock driven until it settles. */
  const add = (...args: Parameters<BotpressHandle['addToKnowledgeBase']>) => time.settle(botpress.addToKnowledgeBase(...args));
  const paths = () => stub.server.calls.map((c) => `${c.method} ${c.path.replace(/file_\w+/, '{id}')}`);
  const polls = () => stub.server.calls.filter((c) => c.method === 'GET');
  const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]!);

  beforeEach(async () => {
    stub = await startBotpressStub();
  });
  afterEach(async () => {
    await runtime?.stop();
    await stub.close();
  });

  describe('wire format', () => {
    it('upserts the file with indexing on in the knowledge base, PUTs its content, and returns once it is indexed', async () => {
      start();
      const result = await add(KB, 'books/B08G9PRS1K.txt', NOTES);
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
      const first = await add(KB, 'notes.md', '# First', { contentType: 'text/markdown', title: 'Notes' });
      const second = await add(KB, 'notes.md', '# Second', { contentType: 'text/markdown', title: 'Notes' });
      expect(second.fileId).to.equal(first.fileId);
      expect([...stub.files.keys()]).to.deep.equal(['notes.md']);
      expect(stub.files.get('notes.md')).to.deep.include({ content: '# Second', contentType: 'text/markdown', status: 'indexing_completed' });
    });

    it('refuses empty arguments and missing credentials with DEP_REJECTED, sending nothing', async () => {
      start();
      expect(await codeOf(add('', 'a.txt', NOTES))).to.equal('DEP_REJECTED');
      expect(await codeOf(add(KB, ' ', NOTES))).to.equal('DEP_REJECTED');
      expect(await codeOf(add(KB, 'a.txt', ''))).to.equal('DEP_REJECTED');
      await runtime.stop();
      start({ token: undefined });
      expect(await codeOf(add(KB, 'a.txt', NOTES))).to.equal('DEP_REJECTED');
      expect(stub.server.calls).to.have.length(0);
    });
  });

  describe('indexing wait', () => {
    it('Botpress polling intervals follow the backoff', async () => {
      stub.pollsUntilIndexed = 9;
      start();
      const result = await add(KB, 'a.txt', NOTES);
      expect(result.polls).to.equal(9);
      const upload = stub.server.calls.find((c) => c.path.startsWith('/upload'))!;
      // Fake timers run on whole milliseconds.
      expect(gaps([upload.endedAt!, ...polls().map((c) => c.startedAt)])).to.deep.equal([500, 750, 1125, 1687.5, 2531.25, 3796.875, 4000, 4000, 4000].map(Math.trunc));
      expect(polls()).to.have.length(9);
    });

    it('gives up when BOTPRESS_INDEX_TIMEOUT_MS has passed, with a retriable DEP_TIMEOUT', async () => {
      stub.pollsUntilIndexed = 1000;
      start({ indexTimeoutMs: 30_000 });
      const error = await failureOf(add(KB, 'a.txt', NOTES));
      expect(error).to.deep.include({ code: 'DEP_TIMEOUT', retriable: true });
      expect(error.message).to.contain('indexing_pending');
      const upload = stub.server.calls.find((c) => c.path.startsWith('/upload'))!;
      const waits = gaps([upload.endedAt!, ...polls().map((c) => c.startedAt)]);
      // The last wait is cut short so that one poll lands on the deadline.
      expect(waits.reduce((x, y) => x + y, 0)).to.equal(30_000);
      expect(waits.slice(0, -1)).to.deep.equal(waits.slice(0, -1).map((_, i) => Math.trunc(pollDelayMs(i))));
    });

    it('fails permanently with DEP_REJECTED when indexing fails', async () => {
      stub.failIndexing = 'Unsupported file format';
      start();
      const error = await failureOf(add(KB, 'a.bin', NOTES));
      expect(error).to.deep.include({ code: 'DEP_REJECTED', retriable: false });
      expect(error.message).to.contain('Unsupported file format');
    });

    it('waits out a retriable poll failure and goes on polling', async () => {
      start();
      // The upsert and the upload pass; the first poll meets a 503.
      stub.server.failNext({ kind: 'ok' }, 2);
      stub.server.failNext({ kind: 'status', status: 503 });
      const result = await add(KB, 'a.txt', NOTES);
      expect(result.status).to.equal('indexing_completed');
      expect(polls().map((c) => c.status)).to.deep.equal([503, 200, 200]);
    });

    it('waits between polls without holding the actor slot', async () => {
      stub.pollsUntilIndexed = 1;
      start({ concurrency: 1 });
      const [a, b] = await time.settle(Promise.all([botpress.addToKnowledgeBase(KB, 'a.txt', NOTES), botpress.addToKnowledgeBase(KB, 'b.txt', NOTES)]));
      const firstPollOfA = stub.server.calls.find((c) => c.path === `/v1/files/${a.fileId}`)!;
      const upsertOfB = stub.server.calls.filter((c) => c.path === '/v1/files')[1]!;
      expect(b.status).to.equal('indexing_completed');
      expect(upsertOfB.startedAt, "b's upload went out during a's wait").to.be.lessThan(firstPollOfA.startedAt);
      expect(firstPollOfA.startedAt - stub.server.calls[0]!.startedAt).to.equal(pollDelayMs(0));
    });

    it('sends each poll through the actor, paced by its rate', async () => {
      stub.pollsUntilIndexed = 3;
      const rate = 10;
      start({ rate, burst: 1 });
      const starts: number[] = [];
      runtime.subscribe((e) => e.type === 'dep.callStarted' && starts.push(e.at));
      await add(KB, 'a.txt', NOTES);
      expect(starts).to.have.length(4);
      expect(Math.min(...gaps(starts))).to.be.at.least(1000 / rate);
    });
  });

  describe('failure classification', () => {
    it('classifies 500 as DEP_SERVER_ERROR, a reset as DEP_UNAVAILABLE, 400 as DEP_REJECTED and a malformed answer as DEP_BAD_RESPONSE', async () => {
      start();
      const failWith = async (mode: StubMode) => {
        stub.server.failNext(mode);
        return failureOf(add(KB, 'a.txt', NOTES));
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
      const error = await failureOf(add(KB, 'a.txt', NOTES));
      expect(error).to.deep.include({ code: 'DEP_REJECTED', upstreamStatus: 401 });
    });

    it('fails a refused content upload as retriable, and the retry reuses the file', async () => {
      start();
      stub.server.failNext({ kind: 'ok' });
      stub.server.failNext({ kind: 'status', status: 503 });
      expect(await codeOf(add(KB, 'a.txt', NOTES))).to.equal('DEP_SERVER_ERROR');
      expect(stub.files.get('a.txt')!.status).to.equal('upload_pending');
      expect((await add(KB, 'a.txt', NOTES)).status).to.equal('indexing_completed');
      expect(stub.files.size).to.equal(1);
    });
  });
});

describeRuntimeGuarantees({
  name: 'botpress',
  startStub: startBotpressStub,
  server: (stub) => stub.server,
  start(stub, limits) {
    const runtime = startDependencies({ botpress: botpressDependency(settingsFor(stub, limits)) });
    return { runtime, call: (i) => runtime.deps.botpress.addToKnowledgeBase(KB, `file-${i}.txt`, NOTES) };
  },
  // An upload is one call of two requests (the upsert, then the content); each poll is a call.
  startsCall: (call) => !call.path.startsWith('/upload/'),
});
