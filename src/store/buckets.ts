import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { STATUS_BUCKET } from './webhookStatus.js';

/** Options of the KV buckets. */
export interface BucketOptions {
  /** How long statuses are kept. */
  statusTtlMs: number;
}

/**
 * Creates (or binds to) the status bucket and one result bucket per source,
 * named after the source (`nats kv get orders TEST-1`).
 */
export async function ensureBuckets(nc: NatsConnection, sources: Iterable<string>, options: BucketOptions): Promise<Map<string, KV>> {
  const kvm = new Kvm(nc);
  const buckets = new Map<string, KV>();
  buckets.set(STATUS_BUCKET, await kvm.create(STATUS_BUCKET, { history: 1, ttl: options.statusTtlMs, description: 'Status of every webhook by <source>.<id>' }));
  for (const s of sources) buckets.set(s, await kvm.create(s, { history: 1, description: `Results of the ${s} pipeline by natural key` }));
  return buckets;
}
