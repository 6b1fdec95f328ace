import { expect } from 'chai';
import type { AnyActorRef } from 'xstate';
import type { DependencyCaller } from '../../../src/dependencies/runtime/caller.js';
import { defineDependency } from '../../../src/dependencies/runtime/definition.js';
import { isActorRestartedError, type DependencyError } from '../../../src/dependencies/runtime/errors.js';
import type { DepEvent, ReplyChannel } from '../../../src/dependencies/runtime/dependencyEvents.js';
import { startDependencies } from '../../../src/dependencies/runtime/runtime.js';
import { restartDelay } from '../../../src/dependencies/runtime/supervisor.js';
import { useFakeClock } from '../../helpers/fakeClock.js';
import { track, type ControlledIo } from '../../helpers/controlledDependency.js';

/** A dependency whose I/O the test finishes by hand, with a `call` handle. */
function controlled(io: ControlledIo[]) {
  return defineDependency({
    options: { concurrency: 2, rate: 1000, burst: 10 },
    perform: (request: string, ctx) => new Promise((resolve, reject) => io.push({ request, ctx, resolve, reject })),
    handle: (caller: DependencyCaller<string>) => ({ call: (request: string) => caller.call<string>(request) }),
  });
}

/** A reply channel that throws, standing in for a bug in code the actor runs. */
const throwingReply: ReplyChannel = {
  resolve: () => {
    throw new Error('bug in the actor');
  },
  reject: () => {
    throw new Error('bug in the actor');
  },
};

describe('supervisor', () => {
  const clock = useFakeClock();
  const { flush } = clock;

  function start() {
    const alpha: ControlledIo[] = [];
    const beta: ControlledIo[] = [];
    const runtime = startDependencies({ alpha: controlled(alpha), beta: controlled(beta) }, { restart: { baseDelayMs: 1000, maxDelayMs: 8000 } });
    const events: DepEvent[] = [];
    runtime.subscribe((e) => events.push(e));
    /** Sends alpha a call whose answer makes its machine throw. */
    const sendPoison = async () => {
      (runtime.supervisor.system.get('alpha') as AnyActorRef).send({ type: 'dep.call', request: 'poison', reply: throwingReply });
      // A restarted actor's buckets start empty: one token at 1000/s.
      await clock.tickAsync(1);
    };
    /** Answers the poisoned call: alpha crashes. */
    const answerPoison = async () => {
      alpha.find((c) => c.request === 'poison' && !c.ctx.signal.aborted)!.resolve('answer');
      await flush();
    };
    const crashAlpha = async () => {
      await sendPoison();
      await answerPoison();
    };
    return { runtime, alpha, beta, events, sendPoison, answerPoison, crashAlpha };
  }

  it('spawns every dependency with its name as systemId', async () => {
    const { runtime } = start();
    expect(runtime.supervisor.system.get('alpha')).to.not.equal(undefined);
    expect(runtime.supervisor.system.get('beta')).to.not.equal(undefined);
    expect(runtime.statuses().map((s) => [s.name, s.state])).to.deep.equal([
      ['alpha', 'closed'],
      ['beta', 'closed'],
    ]);
    await runtime.stop();
  });

  it('restarts a crashed actor after a delay and its pending callers get a retriable error', async () => {
    const { runtime, alpha, events, sendPoison, answerPoison } = start();
    const inFlight = track(runtime.deps.alpha.call('in flight'));
    await sendPoison();
    const queued = track(runtime.deps.alpha.call('queued'));
    await flush();
    expect(alpha.map((c) => c.request)).to.deep.equal(['in flight', 'poison']);
    await answerPoison();

    for (const t of [inFlight, queued]) {
      expect(isActorRestartedError(t.error)).to.equal(true);
      expect((t.error as DependencyError).retriable).to.equal(true);
    }
    expect(alpha[0]!.ctx.signal.aborted, 'in-flight I/O aborted').to.equal(true);
    expect(runtime.status('alpha')).to.deep.include({ activity: 'restarting', restarts: 0 });
    expect(runtime.availability('alpha')).to.deep.equal({ accepting: false, retryAfterMs: 1000 });

    const whileDown = track(runtime.deps.alpha.call('while down'));
    await flush();
    expect((whileDown.error as DependencyError).code).to.equal('DEP_ACTOR_RESTARTED');

    await clock.tickAsync(1000);
    expect(runtime.status('alpha')).to.deep.include({ state: 'closed', restarts: 1 });
    const after = track(runtime.deps.alpha.call('after restart'));
    // The restarted actor starts from the crashed one's breaker, with empty buckets: one token at 1000/s.
    await clock.tickAsync(1);
    alpha.at(-1)!.resolve('works');
    await flush();
    expect(after.value).to.equal('works');
    expect(events.flatMap((e) => (e.type === 'dep.crashed' || e.type === 'dep.started' ? [[e.type, e.dependency]] : []))).to.deep.equal([
      ['dep.crashed', 'alpha'],
      ['dep.started', 'alpha'],
    ]);
    const restartTransition = events.find((e) => e.type === 'dep.transition' && e.dependency === 'alpha');
    expect(restartTransition, 'the restarted actor reports its first state').to.deep.include({ from: undefined, to: 'closed', reason: 'restored closed from the crashed actor' });
    await runtime.stop();
  });

  it('leaves the other actors untouched when one crashes', async () => {
    const { runtime, beta, crashAlpha } = start();
    const betaCall = track(runtime.deps.beta.call('beta work'));
    await flush();
    await crashAlpha();
    expect(beta[0]!.ctx.signal.aborted).to.equal(false);
    beta[0]!.resolve('beta done');
    await flush();
    expect(betaCall.value).to.equal('beta done');
    expect(runtime.status('beta')).to.deep.include({ state: 'closed', restarts: 0 });
    await runtime.stop();
  });

  it('doubles the restart delay for crashes in a row', async () => {
    const { runtime, events, crashAlpha } = start();
    await crashAlpha();
    await clock.tickAsync(1000);
    await crashAlpha();
    const delays = events.flatMap((e) => (e.type === 'dep.crashed' ? [e.restartInMs] : []));
    expect(delays).to.deep.equal([1000, 2000]);
    await clock.tickAsync(2000);
    expect(runtime.status('alpha')!.restarts).to.equal(2);
    await runtime.stop();
  });

  it('throws on invalid options instead of starting an actor that crashes', () => {
    const bad = defineDependency({ options: { concurrency: 0 }, perform: async () => 'x', handle: (caller: DependencyCaller<string>) => caller });
    expect(() => startDependencies({ bad })).to.throw(RangeError, 'concurrency must be an integer >= 1, got 0');
  });

  it('fails waiting calls and aborts in-flight I/O when stopped', async () => {
    const { runtime, alpha } = start();
    const call = track(runtime.deps.alpha.call('pending'));
    await flush();
    await runtime.stop();
    await flush();
    expect(alpha[0]!.ctx.signal.aborted).to.equal(true);
    expect(isActorRestartedError(call.error)).to.equal(true);
  });
});

describe('restartDelay', () => {
  it('doubles from the base per crash in a row, capped', () => {
    const policy = { baseDelayMs: 100, maxDelayMs: 500, resetAfterMs: 1000 };
    expect([1, 2, 3, 4, 5].map((n) => restartDelay(n, policy))).to.deep.equal([100, 200, 400, 500, 500]);
  });
});
