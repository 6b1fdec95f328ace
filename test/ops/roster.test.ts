import { connect, type NatsConnection } from '@nats-io/transport-node';
import { expect } from 'chai';
import sinon from 'sinon';
import { createLogger } from '../../src/log.js';
import type { Presence } from '../../src/ops/opsSubjects.js';
import { OpsRoster } from '../../src/ops/roster.js';
import { TestNats } from '../helpers/natsServer.js';
import { waitFor } from '../helpers/waitFor.js';

const presence = (member: string, instance: string): Presence => ({ member, instance, pid: 1, role: 'primary', processing: true, startedAt: 0 });
const BEAT_MS = 60_000;

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

  async function join(member: string, instance: string, log = createLogger('silent')): Promise<OpsRoster> {
    const nc = await connect({ servers: nats.url });
    conns.push(nc);
    const roster = new OpsRoster(presence(member, instance), { log, beatMs: BEAT_MS });
    rosters.push(roster);
    roster.start(nc);
    await nc.flush();
    return roster;
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
});
