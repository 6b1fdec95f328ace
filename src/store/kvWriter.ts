import { headers, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import type { KV } from '@nats-io/kv';
import { JetStreamApiCodes } from '@nats-io/jetstream';
import { AckError, PublishAckMux } from '../bus/ackMux.js';
import { StatusSequencer, supersedes } from './statusOrder.js';
import { statusKey, type WebhookStatus } from './webhookStatus.js';
import { Buckets } from '../bus/names.js';

const enc = new TextEncoder();
const EXPECTED_LAST_SUBJECT_SEQ = 'Nats-Expected-Last-Subject-Sequence';
/** Compare-and-set attempts of one status write before it gives up (each lost race means another write landed). */
const STATUS_WRITE_ATTEMPTS = 5;

/** A webhook's stored status and the revision of its entry. */
export interface StatusEntry {
  status: WebhookStatus;
  revision: number;
}

/**
 * Writes statuses and results as KV puts (`$KV.<bucket>.<key>`) through one
 * shared ack subscription, batched per event-loop turn like the ingest
 * publisher: `npm run bench:ab` measures it about twice as fast as `kv.put`.
 * Statuses of one webhook are written in order and never go backwards
 * ({@link StatusSequencer}).
 */
export class KvWriter {
  private readonly mux: PublishAckMux;
  private readonly statuses = new StatusSequencer<WebhookStatus>(async (key, s) => {
    await this.put(Buckets.status, key, s);
  });

  /** @param statusKv `webhook-status`, where a conditional write reads what is stored */
  constructor(
    nc: NatsConnection,
    timeoutMs = 5000,
    private readonly statusKv?: KV,
  ) {
    this.mux = new PublishAckMux(nc, timeoutMs);
  }

  /**
   * Puts `value` as JSON and resolves on the bucket's ack.
   * @returns the entry's revision
   */
  async put(bucket: string, key: string, value: unknown, h?: MsgHdrs): Promise<number> {
    return (await this.mux.publish(`$KV.${bucket}.${key}`, enc.encode(JSON.stringify(value)), h)).seq;
  }

  /** A webhook's stored status and its revision; undefined when none is stored. */
  async statusEntry(source: string, id: string): Promise<StatusEntry | undefined> {
    if (!this.statusKv) throw new Error('KvWriter was made without the webhook-status bucket');
    const e = await this.statusKv.get(statusKey(source, id));
    if (!e || e.operation !== 'PUT' || e.length === 0) return undefined;
    return { status: e.json<WebhookStatus>(), revision: e.revision };
  }

  /**
   * Records `s` only over a status it {@link supersedes}, as a
   * compare-and-set on the entry's revision: with `revision` (0: no entry)
   * it writes at once; without it, or when another write landed first, it
   * reads what is stored, checks, and tries again.
   * @returns the new revision, or undefined when what is stored is newer (nothing written)
   * @throws AckError when the bucket does not acknowledge; Error after five lost races
   */
  async putStatusOver(s: WebhookStatus, revision?: number): Promise<number | undefined> {
    let expected = revision;
    for (let attempt = 0; attempt < STATUS_WRITE_ATTEMPTS; attempt++) {
      if (expected === undefined) {
        const stored = await this.statusEntry(s.source, s.id);
        if (stored && !supersedes(s, stored.status)) return undefined;
        expected = stored?.revision ?? 0;
      }
      const written = await this.putStatusAt(s, expected);
      if (written !== false) return written;
      expected = undefined;
    }
    throw new Error(`the status of ${s.source}/${s.id} changed under ${STATUS_WRITE_ATTEMPTS} writes in a row`);
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
   * @returns the new revision, or false when another status was written since `revision`
   * @throws AckError when the bucket does not acknowledge the write
   */
  async putStatusAt(s: WebhookStatus, revision: number): Promise<number | false> {
    const h = headers();
    h.set(EXPECTED_LAST_SUBJECT_SEQ, String(revision));
    try {
      return await this.put(Buckets.status, statusKey(s.source, s.id), s, h);
    } catch (e) {
      if (e instanceof AckError && e.failure.kind === 'api' && e.failure.errCode === JetStreamApiCodes.StreamWrongLastSequence) return false;
      throw e;
    }
  }

  /** Releases the ack subscription. */
  close(): void {
    this.mux.close();
  }
}
