import type { NatsConnection } from '@nats-io/transport-node';
import { PublishAckMux } from '../stream/ackMux.js';
import { STATUS_BUCKET, statusKey, type WebhookStatus } from './webhookStatus.js';

const enc = new TextEncoder();

/**
 * Writes statuses and results as KV puts (`$KV.<bucket>.<key>`) through one
 * shared ack subscription, batched per event-loop turn like the ingest
 * publisher: `npm run bench:ab` measures it about twice as fast as `kv.put`.
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
