import { expect } from 'chai';
import { defaultInstanceId, loadClusterConfig } from '../../src/config/cluster.js';
import { loadConfig } from '../../src/serviceConfig.js';

function errorOf(env: Record<string, string>): Error & { variable?: string } {
  try {
    loadClusterConfig(env);
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected loadClusterConfig to throw');
}

describe('loadClusterConfig', () => {
  it('defaults to one replica, a 10 s lease and a host-and-pid instance id', () => {
    const c = loadConfig({}).cluster;
    expect(c.replicas).to.equal(1);
    expect(c.depOwnerLeaseMs).to.equal(10_000);
    expect(c.instanceId).to.equal(defaultInstanceId()).and.match(new RegExp(`-${process.pid}$`));
  });

  it('reads NATS_REPLICAS, INSTANCE_ID, DEP_OWNER_LEASE_MS and BROWSER_SCOPE', () => {
    expect(loadClusterConfig({ NATS_REPLICAS: '3', INSTANCE_ID: 'relay_a-1', DEP_OWNER_LEASE_MS: '4000', BROWSER_SCOPE: 'cluster' })).to.deep.equal({
      replicas: 3,
      instanceId: 'relay_a-1',
      depOwnerLeaseMs: 4000,
      browserScope: 'cluster',
    });
    expect(loadClusterConfig({}).browserScope).to.equal('instance');
    expect(loadClusterConfig({ NATS_REPLICAS: '5' }).replicas).to.equal(5);
  });

  it('refuses a BROWSER_SCOPE other than instance or cluster, naming the variable', () => {
    expect(errorOf({ BROWSER_SCOPE: 'global' }).variable).to.equal('BROWSER_SCOPE');
  });

  for (const bad of ['0', '2', '4', 'three', '-1']) {
    it(`refuses NATS_REPLICAS=${bad}, naming the variable`, () => {
      const e = errorOf({ NATS_REPLICAS: bad });
      expect(e.variable).to.equal('NATS_REPLICAS');
      expect(e.message).to.contain('NATS_REPLICAS').and.contain('1, 3, 5');
    });
  }

  for (const bad of ['relay.a', 'relay*', 'a>b', 'has space', 'x'.repeat(65)]) {
    it(`refuses INSTANCE_ID='${bad.slice(0, 12)}', which is no subject token`, () => {
      expect(errorOf({ INSTANCE_ID: bad }).variable).to.equal('INSTANCE_ID');
    });
  }

  it('refuses a DEP_OWNER_LEASE_MS below one second', () => {
    expect(errorOf({ DEP_OWNER_LEASE_MS: '500' }).variable).to.equal('DEP_OWNER_LEASE_MS');
    expect(errorOf({ DEP_OWNER_LEASE_MS: '10s' }).variable).to.equal('DEP_OWNER_LEASE_MS');
  });

  it('makes a subject-safe default from a dotted host name', () => {
    expect(defaultInstanceId('relay-1.example.org', 42)).to.equal('relay-1-example-org-42');
  });
});
