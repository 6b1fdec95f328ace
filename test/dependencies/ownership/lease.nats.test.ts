import { connect, type NatsConnection } from '@nats-io/transport-node';
import { expect } from 'chai';
import { DependencyLease, isRevisionConflict, type LeaseValue } from '../../../src/dependencies/ownership/lease.js';
import { TestNats } from '../../helpers/natsServer.js';
import { waitFor } from '../../helpers/waitFor.js';
import { ensureBuckets } from '../../../src/bus/topology.js';

describe('DependencyLease on a real KV bucket', () => {
  let nats: TestNats;
  const conns: NatsConnection[] = [];
  const leases: DependencyLease[] = [];

  before(async () => {
    nats = await TestNats.start();
  });

  after(async () => {
    for (const l of leases) l.stop();
    await Promise.all(conns.map((nc) => nc.close()));
    await nats.dispose();
  });

  async function instance(name: string): Promise<DependencyLease> {
    const nc = await connect({ servers: nats.url });
    conns.push(nc);
    const { dependencyOwners: owners } = await ensureBuckets(nc, [], { statusTtlMs: 60_000, replicas: 1 });
    const lease = new DependencyLease({ key: 'audnex', instance: name, store: owners, leaseMs: 1500 });
    leases.push(lease);
    return lease;
  }

  it('has one owner among two connections, fences the old one off and hands over on release', async () => {
    const a = await instance('relay-a');
    const b = await instance('relay-b');
    a.start();
    await waitFor('a to own audnex', () => a.isOwner);
    b.start();
    const owners = (await ensureBuckets(conns[0]!, [], { statusTtlMs: 60_000, replicas: 1 })).dependencyOwners;
    expect((await owners.get('audnex'))!.json<LeaseValue>().instance).to.equal('relay-a');

    // A write on a stale revision is refused by the server with the code the lease treats as fencing.
    const stale = a.revision!;
    await waitFor('a renewal', () => a.revision !== stale);
    const refused = await owners.update('audnex', '{}', stale).then(() => undefined, (e: unknown) => e);
    expect(isRevisionConflict(refused), String(refused)).to.equal(true);
    expect(b.isOwner).to.equal(false);

    await a.release();
    await waitFor('b to own audnex after the release', () => b.isOwner, { timeoutMs: 1000 });
    expect((await owners.get('audnex'))!.json<LeaseValue>().instance).to.equal('relay-b');
    expect(b.token).to.be.greaterThan(stale);
  });
});
