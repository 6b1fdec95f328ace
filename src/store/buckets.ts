import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ReplicaCount } from '../config/cluster.js';
import { ensureBucket } from '../bus/replicas.js';
import { STATUS_BUCKET } from './webhookStatus.js';

/** Options of the KV buckets. */
export interface BucketOptions {
  /** How long statuses are kept. */
  statusTtlMs: number;
  /** Copies of each bucket (`NATS_REPLICAS`); an existing bucket is updated to it. */
  replicas: ReplicaCount;
}

/**
 * Creates (or binds to) the status bucket and one result bucket per source,
 * named after the source (`nats kv get orders TEST-1`), with `replicas` copies.
 * @throws ConfigError naming `NATS_REPLICAS` when the cluster cannot keep that many.
 */
export async function ensureBuckets(nc: NatsConnection, sources: Iterable<string>, options: BucketOptions): Promise<Map<string, KV>> {
  const { replicas } = options;
  const buckets = new Map<string, KV>();
  buckets.set(STATUS_BUCKET, await ensureBucket(nc, STATUS_BUCKET, { history: 1, ttl: options.statusTtlMs, description: 'Status of every webhook by <source>.<id>' }, replicas));
  for (const s of sources) buckets.set(s, await ensureBucket(nc, s, { history: 1, description: `Results of the ${s} pipeline by natural key` }, replicas));
  return buckets;
}
