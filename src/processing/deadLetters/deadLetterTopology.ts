import { AckPolicy, DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { ensureConsumer, ensureStream } from '../../bus/ensure.js';
import { ADVISORIES_STREAM, ADVISORY_SUBJECTS, DEAD_LETTERS_STREAM, MOVER_CONSUMER } from './deadLetterNames.js';

/**
 * Ensures `DEAD_LETTERS` (kept until replayed or deleted; full → new dead
 * letters wait), `ADVISORIES` (work queue of MAX_DELIVERIES and
 * MSG_TERMINATED advisories about `WEBHOOKS`, captured even while the
 * service is down) and the mover's durable consumer, each with
 * `options.replicas` copies.
 */
export async function ensureDeadLetterTopology(jsm: JetStreamManager, options: { maxBytes: number; replicas: number }): Promise<void> {
  await ensureStream(jsm, {
    name: DEAD_LETTERS_STREAM,
    description: 'Webhooks that exhausted their deliveries or failed permanently, until replayed or deleted',
    subjects: ['dead.webhooks.>'],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.New,
    max_bytes: options.maxBytes,
    max_age: 0,
    duplicate_window: nanos(24 * 3_600_000),
    num_replicas: options.replicas,
    allow_direct: true,
  });
  await ensureStream(jsm, {
    name: ADVISORIES_STREAM,
    description: 'JetStream advisories about WEBHOOKS messages that need dead-lettering',
    subjects: [...ADVISORY_SUBJECTS],
    storage: StorageType.File,
    retention: RetentionPolicy.Workqueue,
    discard: DiscardPolicy.Old,
    max_age: nanos(7 * 24 * 3_600_000),
    num_replicas: options.replicas,
  });
  await ensureConsumer(jsm, ADVISORIES_STREAM, {
    durable_name: MOVER_CONSUMER,
    description: 'Copies dead webhooks to DEAD_LETTERS',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(30_000),
    max_deliver: -1,
  });
}
