import type { JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { unlessMissing } from '../bus/missing.js';
import { Buckets, WebhookHeaders } from '../bus/names.js';
import { kvKey } from './kvKey.js';
import type { WebhookState } from './statusOrder.js';

export type { WebhookState } from './statusOrder.js';

/** A failure as stored in a webhook's status and a dead letter's `Dlq-Last-Error`. */
export interface FailureSummary {
  code: string;
  message: string;
  retriable: boolean;
}

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

/**
 * The `queued` status of a webhook still waiting in `WEBHOOKS`, read off its
 * stored message: the edge records no status at ingest, so until processing
 * writes one this is what the message itself says.
 */
export function queuedStatus(source: string, m: StoredMsg): WebhookStatus {
  return {
    id: m.header.get(WebhookHeaders.Id) || `seq-${m.seq}`,
    source,
    status: 'queued',
    seq: m.seq,
    deliveries: 0,
    updatedAt: m.header.get(WebhookHeaders.ReceivedAt) || m.time.toISOString(),
  };
}

/** Reads a webhook's status; undefined when none is recorded. */
export async function readStatus(kv: KV, source: string, id: string): Promise<WebhookStatus | undefined> {
  const e = await kv.get(statusKey(source, id));
  if (!e || e.operation !== 'PUT' || e.length === 0) return undefined;
  return e.json<WebhookStatus>();
}

/** The revision of a webhook's status entry; 0 when it has none. */
export async function statusRevision(jsm: JetStreamManager, source: string, id: string): Promise<number> {
  const m = await unlessMissing(jsm.streams.getMessage(`KV_${Buckets.status}`, { last_by_subj: `$KV.${Buckets.status}.${statusKey(source, id)}` }));
  return m?.seq ?? 0;
}
