import { expect } from 'chai';
import { Registry, Counter } from 'prom-client';
import sinon from 'sinon';
import { createLogger } from '../../src/log.js';
import { IgnoredMessages } from '../../src/ops/ignoredMessages.js';

const SUBJECT = 'webhook-relay.ops.metrics';

describe('IgnoredMessages', () => {
  let clock: sinon.SinonFakeTimers;
  let warn: sinon.SinonSpy;
  let counter: Counter<'subject' | 'reason'>;
  let ignored: IgnoredMessages;

  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_700_000_000_000 });
    const log = createLogger('silent');
    warn = sinon.spy(log, 'warn');
    counter = new Counter({ name: 'ignored_total', help: 'x', labelNames: ['subject', 'reason'], registers: [new Registry()] });
    ignored = new IgnoredMessages({ log, counter, linesPerMinute: 3 });
  });

  afterEach(() => clock.restore());

  const counted = async (reason: string) => (await counter.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;

  it('logs a sender once per subject and reason, and counts every message', async () => {
    for (let i = 0; i < 5; i++) ignored.note(SUBJECT, 'unknownSender', { member: 'x', instance: 'evil' });
    expect(warn.callCount).to.equal(1);
    expect(warn.firstCall.args[0]).to.deep.equal({ code: 'OPS_BAD_MESSAGE', subject: SUBJECT, reason: 'unknownSender', member: 'x', instance: 'evil' });
    expect(await counted('unknownSender')).to.equal(5);
  });

  it('logs at most linesPerMinute lines a minute, and says how many it left out', () => {
    for (let i = 0; i < 100; i++) ignored.note(SUBJECT, 'unknownSender', { member: `m${i}` });
    expect(warn.callCount).to.equal(3);
    clock.tick(20_000);
    ignored.note(SUBJECT, 'unknownSender', { member: 'late' });
    expect(warn.callCount).to.equal(4);
    expect(warn.lastCall.args[0]).to.include({ member: 'late', notLogged: 97 });
  });

  it('logs a sender again after rememberMs, and takes only the strings a malformed message claims', () => {
    ignored.note(SUBJECT, 'malformed', { member: 42, instance: 'x'.repeat(500) });
    ignored.note(SUBJECT, 'malformed', null);
    expect(warn.callCount).to.equal(2);
    expect(warn.firstCall.args[0]).to.deep.equal({ code: 'OPS_BAD_MESSAGE', subject: SUBJECT, reason: 'malformed', instance: 'x'.repeat(64) });
    clock.tick(600_001);
    ignored.note(SUBJECT, 'malformed', null);
    expect(warn.callCount).to.equal(3);
  });

  it('refuses a limit that is not a positive integer, naming it', () => {
    expect(() => new IgnoredMessages({ log: createLogger('silent'), linesPerMinute: 0 })).to.throw(RangeError, /linesPerMinute/);
    expect(() => new IgnoredMessages({ log: createLogger('silent'), maxSenders: 1.5 })).to.throw(RangeError, /maxSenders/);
  });
});
