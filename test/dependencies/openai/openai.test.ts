import { expect } from 'chai';
import { DEFAULT_INSTRUCTIONS, estimatePromptTokens, openaiDependency, type ExtractSchema, type OpenAIDependencyOptions, type OpenAIHandle } from '../../../src/dependencies/openai/openai.js';
import type { OpenAISettings } from '../../../src/dependencies/openai/settings.js';
import { openaiRetryAfterMs } from '../../../src/dependencies/openai/errors.js';
import { OPENAI_DEFAULTS } from '../../../src/dependencies/openai/settings.js';
import type { DependencyDefinition } from '../../../src/dependencies/runtime/definition.js';
import type { DependencyError } from '../../../src/dependencies/runtime/errors.js';
import { startDependencies, type DependencyRuntime } from '../../../src/dependencies/runtime/runtime.js';
import { startOpenAIStub, type OpenAIStub } from '../../stubs/openai.js';
import { failureOf, codeOf } from '../../helpers/outcomes.js';
import { describeRuntimeGuarantees } from '../../helpers/dependencyGuarantees.js';
import { callsParked, useFakeClock } from '../../helpers/fakeClock.js';

interface Book {
  title: string;
  author: string;
}

const BOOK: ExtractSchema = {
  name: 'book',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['title', 'author'],
    properties: { title: { type: 'string' }, author: { type: 'string' } },
  },
};
const DUNE: Book = { title: 'Dune', author: 'Frank Herbert' };
const TEXT = 'New audiobook: Dune by Frank Herbert, narrated by Scott Brick.';

/** OpenAI settings over a stub: fast pacing and a large budget unless a test says otherwise. */
const settingsFor = (stub: OpenAIStub, overrides: Partial<OpenAISettings> = {}): OpenAISettings =>
  ({
    ...OPENAI_DEFAULTS,
    url: stub.baseUrl,
    apiKey: 'sk-test',
    model: 'gpt-4o-mini',
    tokensPerMinute: 1_000_000,
    rate: 1000,
    burst: 100,
    ...overrides,
  });

describe('openai actor', () => {
  let stub: OpenAIStub;
  let runtime: DependencyRuntime<{ openai: DependencyDefinition<OpenAIHandle> }>;
  let openai: OpenAIHandle;

  function start(overrides: Partial<OpenAISettings> = {}, options: OpenAIDependencyOptions = {}) {
    runtime = startDependencies({ openai: openaiDependency(settingsFor(stub, overrides), options) }, { restart: { baseDelayMs: 50 } });
    openai = runtime.deps.openai;
  }

  beforeEach(async () => {
    stub = await startOpenAIStub();
    stub.answer = DUNE;
  });
  afterEach(async () => {
    await runtime?.stop();
    await stub.close();
  });

  describe('wire format', () => {
    it('sends a strict json_schema chat completion and returns the answer validated', async () => {
      start();
      expect(await openai.extract<Book>(TEXT, BOOK)).to.deep.equal(DUNE);
      expect(stub.server.calls.map((c) => `${c.method} ${c.path}`)).to.deep.equal(['POST /v1/chat/completions']);
      const { body } = stub.completions[0]!;
      expect(body).to.deep.include({
        model: 'gpt-4o-mini',
        max_completion_tokens: 1024,
        messages: [
          { role: 'system', content: DEFAULT_INSTRUCTIONS },
          { role: 'user', content: TEXT },
        ],
        response_format: { type: 'json_schema', json_schema: { name: 'book', schema: BOOK.schema, strict: true } },
      });
    });

    it('fails with DEP_BAD_RESPONSE, permanent, on a refusal, a cut-off or off-schema answer and a body that is not JSON', async () => {
      start({ breakerThreshold: 1 });
      stub.refusal = "I'm sorry, I can't help with that.";
      const refused = await failureOf(openai.extract(TEXT, BOOK));
      expect(refused).to.deep.include({ code: 'DEP_BAD_RESPONSE', retriable: false });
      expect(refused.message).to.contain('refused');
      stub.refusal = undefined;
      expect(await codeOf(openai.extract(TEXT, BOOK, { maxOutputTokens: 2 }))).to.equal('DEP_BAD_RESPONSE');
      stub.answer = { title: 'Dune' };
      const offSchema = await failureOf(openai.extract(TEXT, BOOK));
      expect(offSchema.details).to.deep.equal([{ path: '', message: "must have required property 'author'" }]);
      stub.server.failNext({ kind: 'body', body: '<html>bad gateway</html>' });
      expect(await codeOf(openai.extract(TEXT, BOOK))).to.equal('DEP_BAD_RESPONSE');
      expect(runtime.status('openai')!.state).to.equal('closed');
    });

    it('refuses bad arguments, a missing key and a request larger than the whole budget with DEP_REJECTED, sending nothing', async () => {
      start({ tokensPerMinute: 500 });
      expect(await codeOf(openai.extract('  ', BOOK))).to.equal('DEP_REJECTED');
      expect(await codeOf(openai.extract(TEXT, { name: 'has spaces', schema: BOOK.schema }))).to.equal('DEP_REJECTED');
      expect(await codeOf(openai.extract(TEXT, { name: 'list', schema: { type: 'array' } }))).to.equal('DEP_REJECTED');
      expect(await codeOf(openai.extract(TEXT, { name: 'broken', schema: { type: 'object', properties: { a: { type: 'nope' } } } }))).to.equal(
        'DEP_REJECTED',
      );
      expect(await codeOf(openai.extract(TEXT, BOOK, { maxOutputTokens: 0 }))).to.equal('DEP_REJECTED');
      const tooLarge = await failureOf(openai.extract(TEXT, BOOK, { maxOutputTokens: 490 }));
      expect(tooLarge).to.deep.include({ code: 'DEP_REJECTED', retriable: false });
      expect(tooLarge.message).to.contain('budget of 500');
      await runtime.stop();
      start({ apiKey: undefined });
      expect(await codeOf(openai.extract(TEXT, BOOK))).to.equal('DEP_REJECTED');
      expect(stub.server.calls).to.have.length(0);
    });
  });

  describe('failure classification', () => {
    it('classifies 500 as DEP_SERVER_ERROR, a reset as DEP_UNAVAILABLE, 401 and an exhausted quota as DEP_REJECTED', async () => {
      start({ concurrency: 1 });
      stub.server.failNext({ kind: 'status', status: 500 });
      stub.server.failNext({ kind: 'reset' });
      stub.server.failNext({ kind: 'status', status: 401, body: { error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } } });
      stub.server.failNext({ kind: 'status', status: 429, body: { error: { message: 'You exceeded your current quota.', type: 'insufficient_quota', param: null, code: 'insufficient_quota' } } });
      const errors = await Promise.all([1, 2, 3, 4].map(() => failureOf(openai.extract(TEXT, BOOK))));
      expect(errors.map((e) => [e.code, e.retriable])).to.deep.equal([
        ['DEP_SERVER_ERROR', true],
        ['DEP_UNAVAILABLE', true],
        ['DEP_REJECTED', false],
        ['DEP_REJECTED', false],
      ]);
    });

    it('reads the wait from retry-after-ms, retry-after, then the longest x-ratelimit-reset-*', () => {
      const wait = (headers: Record<string, string>) => openaiRetryAfterMs(new Headers(headers), Date.now());
      expect(wait({ 'retry-after-ms': '250', 'retry-after': '3' })).to.equal(250);
      expect(wait({ 'retry-after': '3', 'x-ratelimit-reset-tokens': '6m0s' })).to.equal(3000);
      expect(wait({ 'x-ratelimit-reset-requests': '20ms', 'x-ratelimit-reset-tokens': '1m30.5s' })).to.equal(90_500);
      expect(wait({ 'x-ratelimit-reset-tokens': 'soon' })).to.equal(undefined);
    });
  });

  describe('token budget', () => {
    // OpenAI's real minute: the budget refills on the fake clock.
    const WINDOW_MS = 60_000;
    const CALLS = 6;
    const BUDGET = 600;
    const MAX_OUTPUT = 40;
    // With the output allowance a call reserves about 200 tokens, a third of the budget.
    const text = `${TEXT} `.repeat(3);
    // Installed before the stub below starts, so its budget refills on the fake clock too.
    const time = useFakeClock({ quiet: callsParked('openai', () => runtime, () => stub?.server) });

    beforeEach(async () => {
      await stub.close();
      stub = await startOpenAIStub({ tokensPerWindow: BUDGET, windowMs: WINDOW_MS });
      stub.answer = DUNE;
    });

    it('delays calls instead of causing 429s', async () => {
      start({ tokensPerMinute: BUDGET, concurrency: 3 }, { tokenWindowMs: WINDOW_MS });
      const reserved = estimatePromptTokens([{ role: 'system', content: DEFAULT_INSTRUCTIONS }, { role: 'user', content: text }], BOOK) + MAX_OUTPUT;
      expect(reserved).to.be.within(180, 220);
      const starts: number[] = [];
      let waits = 0;
      runtime.subscribe((e) => {
        if (e.type === 'dep.callStarted') starts.push(e.at);
        if (e.type === 'dep.waiting' && e.reason === 'rateLimit') waits += 1;
      });

      const results = await time.settle(Promise.all(Array.from({ length: CALLS }, () => openai.extract<Book>(text, BOOK, { maxOutputTokens: MAX_OUTPUT }))));

      expect(results).to.deep.equal(Array.from({ length: CALLS }, () => DUNE));
      expect(stub.completions.map((c) => c.status)).to.deep.equal(Array.from({ length: CALLS }, () => 200));
      expect(waits, 'calls waited for tokens').to.be.greaterThan(0);
      // The stub holds BUDGET tokens at the first call and earns BUDGET per window: the last call can
      // only have been admitted once everything before it plus its own allowance had been earned.
      const used = stub.completions.slice(0, -1).reduce((n, c) => n + c.usedTokens, 0);
      const last = stub.completions.at(-1)!;
      const minSpanMs = ((used + last.promptTokens + MAX_OUTPUT - BUDGET) * WINDOW_MS) / BUDGET;
      expect(minSpanMs).to.be.greaterThan(500);
      expect(starts.at(-1)! - starts[0]!, 'span of the calls the actor started').to.be.at.least(minSpanMs);
    });

    it('draws 429s from the same stub when the budget is not applied', async () => {
      start({ tokensPerMinute: 1_000_000, concurrency: 4 });
      const outcomes = await time.settle(
        Promise.all(Array.from({ length: CALLS }, () => openai.extract<Book>(text, BOOK, { maxOutputTokens: MAX_OUTPUT }).then(() => undefined, (e: DependencyError) => e))),
      );
      const limited = outcomes.filter((e): e is DependencyError => e?.code === 'DEP_RATE_LIMITED');
      expect(stub.completions.filter((c) => c.status === 429).length).to.be.greaterThan(0);
      expect(limited.length).to.be.greaterThan(0);
      expect(limited[0]!.retryAfterMs).to.be.within(1, WINDOW_MS);
    });

    it('charges each call its reported usage instead of its reservation', async () => {
      start({ tokensPerMinute: BUDGET }, { tokenWindowMs: WINDOW_MS });
      await time.settle(openai.extract<Book>(text, BOOK, { maxOutputTokens: MAX_OUTPUT }));
      const used = stub.completions[0]!.usedTokens;
      // No fake time passed, so nothing was refilled.
      expect(runtime.status('openai')!.tokens.tokens).to.equal(BUDGET - used);
    });
  });
});

describeRuntimeGuarantees({
  name: 'openai',
  async startStub() {
    const stub = await startOpenAIStub();
    stub.answer = DUNE;
    return stub;
  },
  server: (stub) => stub.server,
  start(stub, limits) {
    const runtime = startDependencies({ openai: openaiDependency(settingsFor(stub, limits)) });
    return { runtime, call: () => runtime.deps.openai.extract<Book>(TEXT, BOOK) };
  },
});
