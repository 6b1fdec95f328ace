import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ReplicaCount } from '../../config/cluster.js';
import { ensureBucket } from '../../bus/replicas.js';

/** KV bucket of dependency owners' leases, by dependency name (`nats kv ls dependency-owners`). */
const DEPENDENCY_OWNERS_BUCKET = 'dependency-owners';

/** KV bucket of each dependency's breaker and rate state, by dependency name (`nats kv get dependency-state audnex`). */
const DEPENDENCY_STATE_BUCKET = 'dependency-state';

/** The buckets through which instances share dependencies. */
export interface ClusterBuckets {
  owners: KV;
  state: KV;
}

/**
 * Creates (or binds to and updates) `dependency-owners` and `dependency-state`,
 * one revision per key, with `replicas` copies.
 * @throws ConfigError naming `NATS_REPLICAS` when the cluster cannot keep that many.
 */
export async function ensureClusterBuckets(nc: NatsConnection, replicas: ReplicaCount): Promise<ClusterBuckets> {
  return {
    owners: await ensureBucket(nc, DEPENDENCY_OWNERS_BUCKET, { history: 1, description: 'Lease of the instance that owns each dependency' }, replicas),
    state: await ensureBucket(nc, DEPENDENCY_STATE_BUCKET, { history: 1, description: 'Breaker and rate state of each dependency, written by its owner' }, replicas),
  };
}
