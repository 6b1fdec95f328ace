import { AckPolicy, DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType, type ConsumerConfig, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import type { ReplicaCount } from '../config/cluster.js';
import { ensureConsumer, ensureStream } from './ensure.js';
import { ADVISORIES_STREAM, ADVISORY_SUBJECTS, Buckets, DEAD_LETTERS_STREAM, MOVER_CONSUMER, WEBHOOKS_STREAM, webhookSubject } from './names.js';
import { ensureBucket } from './replicas.js';

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
    ack_wait: nanos(o.ackWaitMs),
    // Retries are naks with a delay (RETRY_BACKOFF); no consumer `backoff`, which would stack with them.
    max_deliver: o.maxDeliver,
    max_ack_pending: Math.max(1000, o.concurrency * 10),
  };
}

/** Per-source consumer settings. */
export interface SourceConsumerLimits {
  /** `max_deliver` (`MAX_DELIVER`). */
  maxDeliver: number;
  /** `ack_wait` in ms (`ACK_WAIT`). */
  ackWaitMs: number;
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

/**
 * Ensures `DEAD_LETTERS` (kept until replayed or deleted; full → new dead
 * letters wait), `ADVISORIES` (work queue of MAX_DELIVERIES and
 * MSG_TERMINATED advisories about `WEBHOOKS`, captured even while the
 * service is down) and the mover's durable consumer, each with
 * `options.replicas` copies.
 */
async function ensureDeadLetterTopology(jsm: JetStreamManager, options: { maxBytes: number; replicas: number }): Promise<void> {
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

/** The service's KV buckets (see {@link Buckets} for what each holds). */
export interface TopologyBuckets {
  status: KV;
  /** One per source, by source name. */
  results: ReadonlyMap<string, KV>;
  sessions: KV;
  dependencyOwners: KV;
  dependencyState: KV;
  steps: KV;
}

/** Options of the KV buckets. */
export interface BucketOptions {
  /** How long statuses are kept. */
  statusTtlMs: number;
  /** How long finished steps are kept (`STEPS_TTL`) @default 7 days */
  stepsTtlMs?: number;
  /** Copies of each bucket (`NATS_REPLICAS`); an existing bucket is updated to it. */
  replicas: ReplicaCount;
}

/**
 * Creates (or binds to and updates) every KV bucket, one revision per key,
 * with `replicas` copies.
 * @throws ConfigError naming `NATS_REPLICAS` when the cluster cannot keep that many.
 */
export async function ensureBuckets(nc: NatsConnection, sources: Iterable<string>, options: BucketOptions): Promise<TopologyBuckets> {
  const { replicas } = options;
  const bucket = (name: string, description: string, ttl?: number) => ensureBucket(nc, name, { history: 1, description, ...(ttl === undefined ? {} : { ttl }) }, replicas);
  const results = new Map<string, KV>();
  for (const s of sources) results.set(s, await bucket(Buckets.results(s), `Results of the ${s} pipeline by natural key`));
  return {
    status: await bucket(Buckets.status, 'Status of every webhook by <source>.<id>', options.statusTtlMs),
    results,
    sessions: await bucket(Buckets.sessions, 'Session cookies of dependencies, by dependency'),
    dependencyOwners: await bucket(Buckets.dependencyOwners, 'Lease of the instance that owns each dependency'),
    dependencyState: await bucket(Buckets.dependencyState, 'Breaker and rate state of each dependency, written by its owner'),
    steps: await bucket(Buckets.steps, 'Finished steps of webhooks still being retried, by <source>.<id>.<step>', options.stepsTtlMs ?? 7 * 24 * 3_600_000),
  };
}

/** What {@link ensureTopology} builds. */
export interface TopologySettings {
  webhooks: WebhooksStreamOptions;
  /** One durable consumer per source. */
  consumers: ReadonlyMap<string, SourceConsumerLimits>;
  deadLetters: { maxBytes: number };
  buckets: BucketOptions;
}

/**
 * Creates (or binds to and updates) the whole bus: `WEBHOOKS` and its
 * consumers, `DEAD_LETTERS`, `ADVISORIES` and the mover's consumer, and
 * every KV bucket. Run at every (re)connect.
 * @throws ConfigError naming `NATS_REPLICAS` when the cluster cannot keep that many copies.
 */
export async function ensureTopology(link: { jsm: JetStreamManager; nc: NatsConnection }, t: TopologySettings): Promise<TopologyBuckets> {
  await ensureWebhooksTopology(link.jsm, t.webhooks, t.consumers);
  await ensureDeadLetterTopology(link.jsm, { maxBytes: t.deadLetters.maxBytes, replicas: t.webhooks.replicas });
  return ensureBuckets(link.nc, t.consumers.keys(), t.buckets);
}
