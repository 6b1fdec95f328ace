import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { ensureConsumer, ensureStream } from './ensure.js';
import { WEBHOOKS_STREAM, webhookSubject } from './webhookNames.js';

/** Limits of the `WEBHOOKS` stream. */
export interface WebhooksStreamOptions {
  /** Stream `duplicate_window` in ms. */
  duplicateWindowMs: number;
  /** Stream `max_bytes`. */
  maxBytes: number;
  /** Stream `max_msgs`; -1 is unlimited. */
  maxMsgs: number;
  /** Stream `num_replicas` (`NATS_REPLICAS`). */
  replicas: number;
}

/**
 * The `WEBHOOKS` stream: file storage, interest retention (a webhook stays
 * until its source's consumer has acknowledged it) and `discard: new`, so a
 * full stream refuses new webhooks instead of dropping unprocessed ones.
 */
export function webhooksStreamConfig(o: WebhooksStreamOptions): Partial<StreamConfig> & { name: string } {
  return {
    name: WEBHOOKS_STREAM,
    description: 'Accepted webhooks, one subject per source, kept until processed',
    subjects: ['webhooks.>'],
    storage: StorageType.File,
    retention: RetentionPolicy.Interest,
    discard: DiscardPolicy.New,
    max_bytes: o.maxBytes,
    max_msgs: o.maxMsgs,
    max_age: 0,
    duplicate_window: nanos(o.duplicateWindowMs),
    num_replicas: o.replicas,
    allow_direct: true,
  };
}

/**
 * The durable pull consumer of one source. It exists from the first start on,
 * so interest retention keeps every webhook of that source until processed.
 */
function sourceConsumerConfig(source: string, o: SourceConsumerLimits): Partial<ConsumerConfig> & { durable_name: string } {
  return {
    durable_name: source,
    description: `Processes webhooks.${source}`,
    filter_subject: webhookSubject(source),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(30_000),
    // Retries are naks with a delay (RETRY_BACKOFF); no consumer `backoff`, which would stack with them.
    max_deliver: o.maxDeliver,
    max_ack_pending: Math.max(1000, o.concurrency * 10),
  };
}

/** Per-source consumer settings. */
export interface SourceConsumerLimits {
  /** `max_deliver` (`MAX_DELIVER`). */
  maxDeliver: number;
  /** Messages in flight (`<SOURCE>_CONCURRENCY`). */
  concurrency: number;
}

/** Ensures `WEBHOOKS` and one durable consumer per source. */
export async function ensureWebhooksTopology(
  jsm: JetStreamManager,
  options: WebhooksStreamOptions,
  consumers: ReadonlyMap<string, SourceConsumerLimits>,
): Promise<void> {
  await ensureStream(jsm, webhooksStreamConfig(options));
  for (const [source, limits] of consumers) await ensureConsumer(jsm, WEBHOOKS_STREAM, sourceConsumerConfig(source, limits));
}
