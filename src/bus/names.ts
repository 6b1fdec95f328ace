/**
 * The map of the bus: every stream, consumer, subject, header and KV bucket
 * the service uses, in one place. They are public interface: operators type
 * them into the nats CLI, permissions name them (deploy/nats/), and docs/processing.md
 * documents each one.
 */

/** The stream every accepted webhook is stored in. */
export const WEBHOOKS_STREAM = 'WEBHOOKS';

/** Subject a source's webhooks are published to; its consumer, on `WEBHOOKS`, is named after the source. */
export function webhookSubject(source: string): string {
  return `webhooks.${source}`;
}

/** NATS headers the ingest path sets on every stored webhook. */
export const WebhookHeaders = {
  /** The source name (also the last subject token). */
  Source: 'Webhook-Source',
  /** The sender's delivery id, or the generated one. */
  Id: 'Webhook-Id',
  /** `sender` when the delivery id came from the request, `generated` otherwise. */
  IdOrigin: 'Webhook-Id-Origin',
  /** ISO-8601 time the service received the request. */
  ReceivedAt: 'Webhook-Received-At',
  /** The sender's event type header, when it sent one. */
  EventType: 'Webhook-Event-Type',
  /** The request's Content-Type. */
  ContentType: 'Content-Type',
  /** On a dead letter replayed with `?resume=true`: the sequence whose finished steps it resumes from. */
  ResumeStepsOf: 'Webhook-Resume-Steps-Of',
} as const;

/** The stream of dead letters. */
export const DEAD_LETTERS_STREAM = 'DEAD_LETTERS';

/** The stream capturing JetStream's advisories about `WEBHOOKS`. */
export const ADVISORIES_STREAM = 'ADVISORIES';

/** The durable consumer on `ADVISORIES` that moves messages to `DEAD_LETTERS`. */
export const MOVER_CONSUMER = 'dead-letter-mover';

/** Advisory subjects captured by `ADVISORIES`. */
export const ADVISORY_SUBJECTS = [
  '$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.WEBHOOKS.*',
  '$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.WEBHOOKS.*',
] as const;

/** A dead letter's subject: `dead.webhooks.<source>.<original seq>`, one per original message. */
export function deadLetterSubject(source: string, originalSeq: number): string {
  return `dead.webhooks.${source}.${originalSeq}`;
}

/** Headers every dead letter carries besides the original's. */
export const DlqHeaders = {
  OriginalSubject: 'Dlq-Original-Subject',
  OriginalSeq: 'Dlq-Original-Seq',
  /** `max_deliveries` or `terminated`. */
  Reason: 'Dlq-Reason',
  Deliveries: 'Dlq-Deliveries',
  /** `<code>: <message>` of the last failure. */
  LastError: 'Dlq-Last-Error',
  /** ISO-8601. */
  FailedAt: 'Dlq-Failed-At',
  /** The pipeline steps that had finished (journaled in `webhook-steps`), comma-separated; absent when none. */
  StepsDone: 'Dlq-Steps-Done',
} as const;

/** KV buckets, by what they hold. */
export const Buckets = {
  /** Status of every webhook, key `<source>.<id>` (`nats kv get webhook-status orders.<id>`). */
  status: 'webhook-status',
  /** Results of a source's pipeline by natural key, named after the source (`nats kv get orders TEST-1`). */
  results: (source: string) => source,
  /** Session cookies of dependencies, by dependency (`nats kv get sessions mam`; a live credential). */
  sessions: 'sessions',
  /** Lease of the instance that owns each dependency, by dependency name. */
  dependencyOwners: 'dependency-owners',
  /** Breaker and rate state of each dependency, written by its owner. */
  dependencyState: 'dependency-state',
  /** Finished steps of webhooks still being retried, key `<source>.<id>.<step>` (`nats kv get webhook-steps audiobooks.<id>.audnex.getBook`). */
  steps: 'webhook-steps',
} as const;

/**
 * Subject on which the owner of dependency `name` serves calls from other
 * instances (`webhook-relay.dep.audnex.call`). Only the owner subscribes, and
 * without a queue group, so a request reaches it or gets "no responders".
 */
export function callSubject(name: string): string {
  return `webhook-relay.dep.${name}.call`;
}

/**
 * The operating view's subjects. Every process of every instance (edge
 * processes included) takes part, so that `/stats`, `/metrics`, `/actors`
 * and `/events` read the same way on one machine and across many. Operators
 * may listen with the nats CLI: `nats sub 'webhook-relay.ops.>'`.
 */
export const OpsSubjects = {
  /**
   * Every process announces itself here every few seconds. A presence with
   * a reply subject asks the others to answer with theirs: the answer shows
   * a process answers, which a presence alone does not.
   */
  presence: 'webhook-relay.ops.presence',
  /** Every process answers with its metrics. */
  metrics: 'webhook-relay.ops.metrics',
  /** The processes of one instance answer with their metrics. */
  instanceMetrics: (instance: string) => `webhook-relay.ops.metrics.${instance}`,
  /** Every processing process answers with its latest notable events. */
  recent: 'webhook-relay.ops.recent',
  /** Every processing instance answers with the state of the dependencies it runs (`nats req webhook-relay.ops.actors '' --replies 0`). */
  actors: 'webhook-relay.ops.actors',
  /** Processes with `/events` clients say so here every few seconds. */
  watch: 'webhook-relay.ops.watch',
  /** A processing process's live-feed batches while someone watches. */
  events: (instance: string) => `webhook-relay.ops.events.${instance}`,
  /** Every instance's live-feed batches. */
  allEvents: 'webhook-relay.ops.events.*',
} as const;
