import { headers, type MsgHdrs } from '@nats-io/transport-node';
import type { JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { AckError, PublishAckMux } from '../stream/ackMux.js';
import { unlessMissing } from '../stream/missing.js';
import { kvKey } from './keys.js';
import type { FailureSummary } from './retryDecision.js';
import { StatusSequencer, type WebhookState } from './statusOrder.js';

export type { WebhookState } from './statusOrder.js';

/** The KV bucket of per-webhook statuses. */
export const STATUS_BUCKET = 'webhook-status';

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
const EXPECTED_LAST_SUBJECT_SEQ = 'Nats-Expected-Last-Subject-Sequence';
/** JetStream's `JSStreamWrongLastSequenceErrF`. */
const WRONG_LAST_SEQUENCE = 10071;

/**
 * Writes statuses and results as KV puts (`$KV.<bucket>.<key>`) through one
 * shared ack subscription, batched per event-loop turn like the ingest
 * publisher. Statuses of one webhook are written in order and never go
 * backwards ({@link StatusSequencer}).
 */
export class KvWriter {
  private readonly mux: PublishAckMux;
  private readonly statuses = new StatusSequencer<WebhookStatus>((key, s) => this.put(STATUS_BUCKET, key, s));

  constructor(nc: NatsConnection, timeoutMs = 5000) {
    this.mux = new PublishAckMux(nc, timeoutMs);
  }

  /** Puts `value` as JSON and resolves on the bucket's ack. */
  async put(bucket: string, key: string, value: unknown, h?: MsgHdrs): Promise<void> {
    await this.mux.publish(`$KV.${bucket}.${key}`, enc.encode(JSON.stringify(value)), h);
  }

  /**
   * Records a webhook's status after those already issued for it in this
   * process; dropped (resolving) when it would move the status backwards.
   * @throws AckError when the bucket does not acknowledge the write
   */
  putStatus(s: WebhookStatus): Promise<void> {
    return this.statuses.put(statusKey(s.source, s.id), s);
  }

  /**
   * Records a webhook's status only if its entry is still at `revision`
   * (0: no entry), for a writer in another process (a replay marking
   * `queued`) that must not overwrite what processing wrote meanwhile.
   * @returns false when a newer status was there
   * @throws AckError when the bucket does not acknowledge the write
   */
  async putStatusAt(s: WebhookStatus, revision: number): Promise<boolean> {
    const h = headers();
    h.set(EXPECTED_LAST_SUBJECT_SEQ, String(revision));
    try {
      await this.put(STATUS_BUCKET, statusKey(s.source, s.id), s, h);
      return true;
    } catch (e) {
      if (e instanceof AckError && e.failure.kind === 'api' && e.failure.errCode === WRONG_LAST_SEQUENCE) return false;
      throw e;
    }
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
  h.set(EXPECTED_LAST_SUBJECT_SEQ, '0');
  const status: WebhookStatus = { ...s, status: 'queued', deliveries: 0 };
  return { subject: `$KV.${STATUS_BUCKET}.${statusKey(s.source, s.id)}`, data: enc.encode(JSON.stringify(status)), headers: h };
}

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

/** The revision of a webhook's status entry; 0 when it has none. */
export async function statusRevision(jsm: JetStreamManager, source: string, id: string): Promise<number> {
  const m = await unlessMissing(jsm.streams.getMessage(`KV_${STATUS_BUCKET}`, { last_by_subj: `$KV.${STATUS_BUCKET}.${statusKey(source, id)}` }));
  return m?.seq ?? 0;
}

/** Reads a webhook's status; undefined when none is recorded. */
export async function readStatus(kv: KV, source: string, id: string): Promise<WebhookStatus | undefined> {
  const e = await kv.get(statusKey(source, id));
  if (!e || e.operation !== 'PUT' || e.length === 0) return undefined;
  return e.json<WebhookStatus>();
}
