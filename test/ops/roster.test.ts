import { connect, type NatsConnection } from '@nats-io/transport-node';
import { expect } from 'chai';
import sinon from 'sinon';
import { createLogger } from '../../src/log.js';
import { IgnoredMessages } from '../../src/ops/ignoredMessages.js';
import type { Presence } from '../../src/ops/opsSubjects.js';
import { OpsRoster, type OpsRosterOptions } from '../../src/ops/roster.js';
import { TestNats } from '../helpers/natsServer.js';
import { waitFor } from '../helpers/waitFor.js';

const presence = (member: string, instance: string): Presence => ({ member, instance, pid: 1, role: 'primary', processing: true, startedAt: 0 });
const BEAT_MS = 60_000;
const PRESENCE = 'webhook-relay.ops.presence';

describe('OpsRoster', function () {
  this.timeout(20_000);
  let nats: TestNats;
  const conns: NatsConnection[] = [];
  const rosters: OpsRoster[] = [];

  before(async () => {
    nats = await TestNats.start();
  });
  after(async () => nats?.dispose());
  afterEach(async () => {
    for (const r of rosters.splice(0)) r.stop();
    await Promise.all(conns.splice(0).map((c) => c.close()));
  });

  async function join(member: string, instance: string, log = createLogger('silent'), options: Partial<OpsRosterOptions> = {}): Promise<OpsRoster> {
    const nc = await connect({ servers: nats.url });
    conns.push(nc);
    const roster = new OpsRoster(presence(member, instance), { ignored: new IgnoredMessages({ log }), beatMs: BEAT_MS, ...options });
    rosters.push(roster);
    roster.start(nc);
    await nc.flush();
    return roster;
  }

  /** A client that plays other processes: it publishes their presences and answers probes as `answering` says. */
  async function forger(answering: Set<string> = new Set()) {
    const nc = await connect({ servers: nats.url });
    conns.push(nc);
    const probes: { from: string; reply: string }[] = [];
    nc.subscribe(PRESENCE, {
      callback: (_e, msg) => {
        if (!msg.reply) return;
        probes.push({ from: msg.json<Presence>().member, reply: msg.reply });
        for (const member of answering) msg.respond(JSON.stringify(presence(member, 'f')));
      },
    });
    await nc.flush();
    return {
      nc,
      probes,
      announce: (p: Presence & { hello?: boolean; leaving?: boolean }, reply?: string) => nc.publish(PRESENCE, JSON.stringify(p), reply ? { reply } : {}),
      /** Resolves once the roster on `rosterConn` has handled everything this forger published before. */
      async settled(rosterConn: NatsConnection): Promise<void> {
        const subject = `sync.${Math.random()}`;
        let seen = false;
        const sub = rosterConn.subscribe(subject, {
          callback: () => {
            seen = true;
          },
        });
        await rosterConn.flush();
        // Messages from one connection reach another in the order they were published.
        nc.publish(subject, '');
        await waitFor('the roster to have handled the forger messages', () => seen);
        sub.unsubscribe();
      },
    };
  }

  const members = (r: OpsRoster) => r.live().map((p) => p.member).sort();

  it('knows a newcomer, and the newcomer knows it, long before the next beat', async () => {
    const first = await join('m1', 'a');
    const second = await join('m2', 'b');
    await waitFor('each to know the other', () => members(first).length === 2 && members(second).length === 2);
    expect(members(second)).to.deep.equal(['m1', 'm2']);
  });

  it('forgets a member that says it leaves at once, and one that misses its beats later', async () => {
    const first = await join('m1', 'a');
    const second = await join('m2', 'b');
    const third = await join('m3', 'c');
    await waitFor('all three known', () => members(first).length === 3);
    second.stop();
    await waitFor('m2 forgotten', () => !members(first).includes('m2'));
    expect(members(first)).to.deep.equal(['m1', 'm3']);
    // m3 stays silent for three beats: gone, though it never said so; this process itself stays.
    expect(first.live(Date.now() + 3 * BEAT_MS + 1).map((p) => p.member)).to.deep.equal(['m1']);
    expect(third.live().map((p) => p.member)).to.include('m3');
  });

  it('logs a presence message that is not one with OPS_BAD_MESSAGE and ignores it', async () => {
    const log = createLogger('silent');
    const warn = sinon.spy(log, 'warn');
    const roster = await join('m1', 'a', log);
    const nc = conns[0]!;
    nc.publish('webhook-relay.ops.presence', 'not json');
    nc.publish('webhook-relay.ops.presence', JSON.stringify({ ...presence('m9', 'z'), pid: 'one' }));
    await waitFor('two warnings', () => warn.callCount >= 2);
    expect(warn.firstCall.args[0]).to.include({ code: 'OPS_BAD_MESSAGE', subject: 'webhook-relay.ops.presence' });
    expect(members(roster)).to.deep.equal(['m1']);
  });

  it('takes in at most maxNewPerBeat newcomers per beat, and the others at later beats', async () => {
    const clock = sinon.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const roster = await join('m1', 'a', undefined, { maxNewPerBeat: 4 });
      const f = await forger();
      const burst = () => {
        for (let i = 0; i < 10; i++) f.announce(presence(`n${i}`, 'z'));
      };
      burst();
      await f.settled(conns[0]!);
      expect(members(roster)).to.have.length(1 + 4);
      for (const expected of [9, 11]) {
        clock.tick(BEAT_MS);
        burst();
        await f.settled(conns[0]!);
        expect(members(roster)).to.have.length(expected);
      }
    } finally {
      clock.restore();
    }
  });

  it('holds at most maxMembers, making room by forgetting the member heard least recently that never answered', async () => {
    const roster = await join('m1', 'a', undefined, { maxMembers: 4, maxNewPerBeat: 100 });
    const f = await forger(new Set(['p1']));
    // p1 says hello: the roster answers with a probe, which p1 answers.
    f.announce({ ...presence('p1', 'f'), hello: true });
    await waitFor('p1 to have answered', () => roster.hasAnswered('p1'));
    for (const m of ['u1', 'u2', 'u3']) {
      f.announce(presence(m, 'f'));
      await f.settled(conns[0]!);
    }
    expect(members(roster)).to.deep.equal(['m1', 'p1', 'u2', 'u3']);
    expect(roster.hasAnswered('u2')).to.equal(false);
  });

  it('takes no newcomer in while every member it holds has answered', async () => {
    const f = await forger(new Set(['p2']));
    // The roster's hello asks for answers; the forger answers as p2.
    const roster = await join('m2', 'b', undefined, { maxMembers: 2 });
    await waitFor('p2 to have answered', () => roster.hasAnswered('p2'));
    f.announce(presence('u9', 'f'));
    await f.settled(conns.at(-1)!);
    expect(members(roster)).to.deep.equal(['m2', 'p2']);
  });

  it('answers a burst of hellos with one presence, and each member probe once per beat', async () => {
    const roster = await join('m1', 'a');
    const f = await forger();
    const own: string[] = [];
    f.nc.subscribe(PRESENCE, { callback: (_e, msg) => void (msg.json<Presence>().member === 'm1' && own.push(msg.reply ?? '')) });
    const answers: string[] = [];
    const inbox = `answers.${Math.random()}`;
    f.nc.subscribe(inbox, { callback: (_e, msg) => void answers.push(msg.json<Presence>().member) });
    await f.nc.flush();
    for (let i = 0; i < 50; i++) f.announce({ ...presence(`h${i}`, 'z'), hello: true }, inbox);
    f.announce(presence('h0', 'z'), inbox);
    await f.settled(conns[0]!);
    await f.nc.flush();
    // One presence for the whole burst, and it asks the newcomers to answer.
    expect(own).to.have.length(1);
    expect(own[0]).to.not.equal('');
    // Each newcomer taken in (16 per beat) had its probe answered, h0 once.
    expect(answers).to.have.length(16);
    expect(answers.every((m) => m === 'm1')).to.equal(true);
    expect(members(roster)).to.have.length(1 + 16);
  });

  it('waits only for members that answered: one that answers a probe, not one that only announces itself', async () => {
    const roster = await join('m1', 'a');
    const f = await forger(new Set(['talker']));
    f.announce({ ...presence('talker', 'f'), hello: true });
    f.announce({ ...presence('mute', 'f'), hello: true });
    await waitFor('the talker to have answered', () => roster.hasAnswered('talker'));
    await f.settled(conns[0]!);
    expect(members(roster)).to.deep.equal(['m1', 'mute', 'talker']);
    expect(roster.hasAnswered('mute')).to.equal(false);
  });

  it('keeps what it first heard of a member: the same id from another instance neither changes it nor makes it leave', async () => {
    const log = createLogger('silent');
    const warn = sinon.spy(log, 'warn');
    const roster = await join('m1', 'a', log);
    await join('m2', 'b');
    await waitFor('m2 known', () => roster.known('m2') !== undefined);
    const f = await forger();
    f.announce(presence('m2', 'evil'));
    f.announce({ ...presence('m2', 'evil'), leaving: true });
    await f.settled(conns[0]!);
    expect(roster.known('m2')?.instance).to.equal('b');
    expect(warn.firstCall.args[0]).to.include({ code: 'OPS_BAD_MESSAGE', subject: PRESENCE, reason: 'unknownSender', member: 'm2', instance: 'evil' });
    // Once per sender: the second message is counted, not logged.
    expect(warn.callCount).to.equal(1);
  });
});
