import { expect } from 'chai';
import type { DependencyLimits } from '../../src/dependencies/settings.js';
import type { RecordedCall, StubServer } from '../stubs/stubServer.js';
import { callsParked, useFakeClock } from './fakeClock.js';
import { codeOf, failureOf } from './outcomes.js';

/** What the guarantees read of a dependency runtime (any `DependencyRuntime` fits). */
export interface GuaranteedRuntime {
  status(name: string): { readonly state: string; readonly inFlight: number; readonly counters: { readonly rejected: number } } | undefined;
  availability(name: string): { readonly accepting: boolean };
  subscribe(listener: (event: { readonly type: string; readonly at: number }) => void): () => void;
  stop(): Promise<void>;
}

/** A dependency started over its stub. */
export interface StartedDependency {
  readonly runtime: GuaranteedRuntime;
  /** Makes one successful-by-default call through the typed handle; `i` numbers it within the test. */
  call: (i: number) => Promise<unknown>;
}

/** The actor under test, as {@link describeRuntimeGuarantees} drives it. */
export interface GuaranteesSubject<S extends { close(): Promise<void> }> {
  /** The dependency's name (its systemId). */
  readonly name: string;
  /** Starts the dependency's stub on a free loopback port. */
  startStub(): Promise<S>;
  /** The stub's HTTP server: its records and failure modes. */
  server(stub: S): StubServer;
  /** Starts the dependency over `stub`, with these limits over fast test defaults. */
  start(stub: S, limits: Partial<DependencyLimits>): StartedDependency;
  /**
   * Whether a stub request is the first of a call (a call of several requests counts once).
   * @default every request
   */
  startsCall?(call: RecordedCall): boolean;
  /**
   * The most calls the dependency may run at once.
   * @default 2
   */
  concurrency?: number;
}

const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]!);

/** The times of the calls the actor starts from now on. */
function startsOf(runtime: GuaranteedRuntime): number[] {
  const starts: number[] = [];
  runtime.subscribe((e) => e.type === 'dep.callStarted' && starts.push(e.at));
  return starts;
}

/**
 * Registers the guarantees every dependency actor gives whatever it talks to:
 * pacing and the concurrency limit, the call timeout, a 429's `Retry-After`,
 * the circuit breaker and the mailbox bound, on a fake clock (see
 * test/helpers/fakeClock.ts), so they hold exactly and never depend on the
 * machine's speed.
 */
export function describeRuntimeGuarantees<S extends { close(): Promise<void> }>(subject: GuaranteesSubject<S>): void {
  const { name } = subject;
  const concurrency = subject.concurrency ?? 2;

  describe(`${name} actor: runtime guarantees`, () => {
    let stub: S | undefined;
    let started: StartedDependency | undefined;
    const server = () => subject.server(stub!);
    const time = useFakeClock({ quiet: callsParked(name, () => started?.runtime, () => stub && subject.server(stub)) });
    const start = (limits: Partial<DependencyLimits>) => (started = subject.start(stub!, limits));
    const callStarts = () => server().calls.filter((c) => subject.startsCall?.(c) ?? true);

    beforeEach(async () => {
      stub = await subject.startStub();
    });
    afterEach(async () => {
      await started?.runtime.stop();
      started = undefined;
      await stub?.close();
    });

    it(`keeps concurrent callers within the concurrency limit (${concurrency}) and the rate`, async () => {
      const rate = 20;
      const { runtime, call } = start({ rate, burst: 1, concurrency });
      const starts = startsOf(runtime);
      // Answers take longer than two call intervals, so only the limit keeps concurrency down.
      server().answerDelayMs = 120;

      await time.settle(Promise.all(Array.from({ length: 12 }, (_, i) => call(i))));

      expect(server().maxConcurrency).to.equal(concurrency);
      expect(starts.length, 'calls started').to.be.at.least(12);
      expect(Math.min(...gaps(starts)), 'spacing of the starts the actor decided').to.be.at.least(1000 / rate);
      expect(callStarts().map((c) => c.startedAt), 'each call reached the stub when the actor started it').to.deep.equal(starts);
    });

    it('aborts a hanging request after timeoutMs with a retriable DEP_TIMEOUT', async () => {
      const { call } = start({ timeoutMs: 200 });
      server().failNext({ kind: 'hang' });
      const began = Date.now();
      expect(await time.settle(failureOf(call(0)))).to.deep.include({ code: 'DEP_TIMEOUT', retriable: true });
      expect(Date.now() - began).to.equal(200);
      const hung = await time.until('the stub to see the request aborted', () => server().calls.find((c) => c.outcome === 'aborted'));
      expect(hung.endedAt! - hung.startedAt, 'aborted by the actor, not by a client timeout').to.equal(200);
    });

    it('sends nothing before a 429 Retry-After has passed', async () => {
      const { call } = start({ concurrency });
      server().failNext({ kind: 'rateLimit', retryAfter: '1' });
      const limited = await time.settle(failureOf(call(0)));
      expect(limited).to.deep.include({ code: 'DEP_RATE_LIMITED', retryAfterMs: 1000, retriable: true });
      const answeredAt = server().calls[0]!.endedAt!;

      await time.settle(Promise.all([call(1), call(2)]));

      const later = callStarts().slice(1);
      expect(later.length).to.be.at.least(2);
      expect(Math.min(...later.map((c) => c.startedAt)) - answeredAt).to.equal(1000);
    });

    it('opens the breaker after threshold failures, sends one probe per cool-down, then recovers', async () => {
      const threshold = 3;
      const cooldown = 200;
      const windowMs = 1200;
      const { runtime, call } = start({ breakerThreshold: threshold, breakerCooldownMs: cooldown, breakerMaxCooldownMs: cooldown });
      server().setMode({ kind: 'status', status: 503 });
      const windowStart = Date.now();
      const outcomes: Promise<string>[] = [];
      const load = setInterval(() => outcomes.push(codeOf(call(outcomes.length))), 5);
      await time.until('the window to pass', () => Date.now() - windowStart >= windowMs);
      clearInterval(load);

      const sent = callStarts();
      expect(sent.length).to.be.at.most(threshold + Math.floor(windowMs / cooldown));
      expect(sent.length, 'probes went out').to.be.at.least(threshold + 2);
      expect(Math.min(...gaps(sent.slice(threshold).map((c) => c.startedAt))), 'spacing of the probes').to.be.at.least(cooldown);
      const codes = await time.settle(Promise.all(outcomes));
      expect(codes.filter((c) => c === 'DEP_CIRCUIT_OPEN').length).to.be.greaterThan(outcomes.length / 2);

      server().setMode({ kind: 'ok' });
      await time.until('the breaker to let a probe through', () => runtime.availability(name).accepting);
      expect(await time.settle(codeOf(call(outcomes.length)))).to.equal('resolved');
      expect(runtime.status(name)!.state).to.equal('closed');
    });

    it('refuses a call beyond maxQueue with DEP_OVERLOADED, without sending it', async () => {
      const { runtime, call } = start({ concurrency: 1, maxQueue: 2 });
      const starts = startsOf(runtime);
      server().answerDelayMs = 100;
      const codes = await time.settle(Promise.all([0, 1, 2, 3].map((i) => codeOf(call(i)))));
      expect(codes).to.deep.equal(['resolved', 'resolved', 'resolved', 'DEP_OVERLOADED']);
      expect(runtime.status(name)!.counters.rejected).to.equal(1);
      expect(starts.length, 'calls started').to.be.at.least(3);
      expect(callStarts().map((c) => c.startedAt), 'the stub saw only the calls the actor started').to.deep.equal(starts);
    });
  });
}
