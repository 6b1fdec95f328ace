import { headers, type MsgHdrs } from '@nats-io/transport-node';
import type { KV } from '@nats-io/kv';
import { ensureBucket } from '../cluster/replicas.js';
import type { ReplicaCount } from '../config/cluster.js';
import type { NatsConnection } from '@nats-io/transport-node';
import { PublishAckMux } from '../stream/ackMux.js';
import { kvKey } from './keys.js';
import type { FailureSummary } from './retryDecision.js';

/** The KV bucket of per-webhook statuses. */
export const STATUS_BUCKET = 'webhook-status';

/** Where a webhook is in its life. */
export type WebhookState = 'queued' | 'processing' | 'retrying' | 'done' | 'dead';

/** One webhook's status, as `GET /webhooks/:source/:id` shows it. */
export interface WebhookStatus {
  id: string;
  source: string;
  status: WebhookState;
  /** Stream sequence in `WEBHOOKS`. */
  seq: number;
  /** Deliveries so far (0 while queued). */
  deliveries: number;
  lastError?: FailureSummary;
  /** Where the result is: `nats kv get <bucket> <key>`. */
  result?: { bucket: string; key: string };
  /** Next delivery, while retrying (epoch ms). */
  retryAt?: number;
  /** Dead letter's subject, once dead. */
  deadLetter?: { stream: string; subject: string };
  updatedAt: string;
}

/** The key of a webhook's status: `<source>.<id>`. */
export function statusKey(source: string, id: string): string {
  return `${source}.${kvKey(id)}`;
}

const enc = new TextEncoder();

/**
 * Writes statuses and results as KV puts (`$KV.<bucket>.<key>`) through one
 * shared ack subscription, batched per event-loop turn like the ingest
 * publisher.
 */
export class KvWriter {
  private readonly mux: PublishAckMux;

  constructor(nc: NatsConnection, timeoutMs = 5000) {
    this.mux = new PublishAckMux(nc, timeoutMs);
  }

  /** Puts `value` as JSON and resolves on the bucket's ack. */
  async put(bucket: string, key: string, value: unknown): Promise<void> {
    await this.mux.publish(`$KV.${bucket}.${key}`, enc.encode(JSON.stringify(value)));
  }

  /** Records a webhook's status. */
  putStatus(s: WebhookStatus): Promise<void> {
    return this.put(STATUS_BUCKET, statusKey(s.source, s.id), s);
  }

  /** Releases the ack subscription. */
  close(): void {
    this.mux.close();
  }
}

/**
 * The `queued` status of a just-stored webhook as a KV put that only
 * succeeds while the key has no value (the processor's own records win).
 */
export function queuedMarker(s: Pick<WebhookStatus, 'id' | 'source' | 'seq' | 'updatedAt'>): { subject: string; data: Uint8Array; headers: MsgHdrs } {
  const h = headers();
  h.set('Nats-Expected-Last-Subject-Sequence', '0');
  const status: WebhookStatus = { ...s, status: 'queued', deliveries: 0 };
  return { subject: `$KV.${STATUS_BUCKET}.${statusKey(s.source, s.id)}`, data: enc.encode(JSON.stringify(status)), headers: h };
}

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

/** Reads a webhook's status; undefined when none is recorded. */
export async function readStatus(kv: KV, source: string, id: string): Promise<WebhookStatus | undefined> {
  const e = await kv.get(statusKey(source, id));
  if (!e || e.operation !== 'PUT' || e.length === 0) return undefined;
  return e.json<WebhookStatus>();
}
