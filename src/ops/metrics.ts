import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';

/** Prefix of every metric name the service exports. */
export const METRIC_PREFIX = 'webhook_relay_';

/** Label naming the instance (`INSTANCE_ID`) on every series. */
export const INSTANCE_LABEL = 'instance_id';

/** One registry's metrics as JSON, the form processes exchange and aggregate. */
export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

let processRegistry: Registry | undefined;

/**
 * The process-wide registry of prom-client's default metrics (CPU, memory,
 * event loop lag, GC, handles), created once per process however many
 * service instances it runs.
 */
function processMetricsRegistry(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: METRIC_PREFIX });
  }
  return processRegistry;
}

const SECONDS_FAST = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SECONDS_SLOW = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/**
 * Every metric of one service process, in its own registry (so tests may
 * run several in one process), each series labelled `instance_id`. The HTTP
 * edge, the processing collector and the operating view record into these;
 * `GET /metrics` renders them with the default process metrics, summed
 * over the instance's processes.
 */
export class OpsMetrics {
  readonly registry = new Registry();

  /** HTTP requests by method, matched route and status. */
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  /** `POST /webhooks/:source` requests that reached the route (before any check). */
  readonly webhooksReceived: Counter<'source'>;
  /** Webhooks stored in `WEBHOOKS` (202, not a duplicate). */
  readonly webhooksPublished: Counter<'source'>;
  /** Resends inside the duplicate window (202, duplicate). */
  readonly webhooksDuplicate: Counter<'source'>;
  /** Webhooks refused at the edge, by error code. */
  readonly webhooksRefused: Counter<'source' | 'code'>;
  /** Deliveries handed to a pipeline (the first and every retry). */
  readonly deliveries: Counter<'source'>;
  /** How long each delivery took, by how it ended. */
  readonly processingDuration: Histogram<'source' | 'outcome'>;
  /** Deliveries by how they ended: done, retrying, exhausted, terminated. */
  readonly processingOutcomes: Counter<'source' | 'outcome'>;
  /** Redeliveries of webhooks already done for their sequence, acked without running the pipeline. */
  readonly duplicateDeliveriesSkipped: Counter<'source'>;
  /** Webhooks moved to `DEAD_LETTERS`, by reason. */
  readonly deadLettered: Counter<'source' | 'reason'>;
  /** Deliveries running now. */
  readonly inFlight: Gauge<'source'>;
  /** Webhooks waiting in a source's consumer (`num_pending` + `num_ack_pending`). */
  readonly pending: Gauge<'source'>;
  /** Age of the oldest webhook a source's consumer has not acknowledged yet (0 when none waits). */
  readonly oldestWaiting: Gauge<'source'>;
  /** Messages in a stream. */
  readonly streamMessages: Gauge<'stream'>;
  /** Bytes in a stream. */
  readonly streamBytes: Gauge<'stream'>;
  /** A stream's `max_bytes` (-1: no limit); a full `WEBHOOKS` refuses new webhooks with 503. */
  readonly streamMaxBytes: Gauge<'stream'>;
  /** A stream's `max_msgs` (-1: no limit). */
  readonly streamMaxMessages: Gauge<'stream'>;
  /** Breaker state: 0 closed, 1 half-open, 2 open. */
  readonly breakerState: Gauge<'dependency'>;
  /** Breaker transitions (`from` is `none` when the actor started). */
  readonly breakerTransitions: Counter<'dependency' | 'from' | 'to'>;
  /** 1 while this instance holds a cluster-scoped dependency's lease in `dependency-owners`, else 0. */
  readonly dependencyOwner: Gauge<'dependency'>;
  /** This instance's processes of each role whose NATS link is ready (summed over the processes that answer). */
  readonly natsLinkReady: Gauge<'role'>;
  /** The processes this instance runs in each role (the highest any process reports, not a sum). */
  readonly processes: Gauge<'role'>;
  /** Calls waiting in a dependency's mailbox. */
  readonly mailboxDepth: Gauge<'dependency'>;
  /** Calls a dependency runs now. */
  readonly dependencyInFlight: Gauge<'dependency'>;
  /** Times a dependency actor parked its mailbox waiting for a rate-limit token or a 429's Retry-After. */
  readonly rateLimitWaits: Counter<'dependency' | 'reason'>;
  /** How long calls waited in the mailbox before they started. */
  readonly mailboxWait: Histogram<'dependency'>;
  /** Dependency calls by outcome and failure code. */
  readonly dependencyCallDuration: Histogram<'dependency' | 'outcome' | 'code'>;
  /** Calls refused without being sent (breaker open, mailbox full). */
  readonly dependencyCallsRefused: Counter<'dependency' | 'code'>;
  /** Dependency actor crashes (each followed by a supervised restart). */
  readonly dependencyCrashes: Counter<'dependency'>;
  /** `429 INGEST_RATE_LIMITED` answers (per-IP limit). */
  readonly ingestRateLimited: Counter;
  /** Client IPs the per-IP limit tracks now. */
  readonly ingestRateLimitClients: Gauge;
  /** Connections answered `503` and closed because `MAX_CONNECTIONS` were open. */
  readonly connectionsRefused: Counter;
  /** Connections open now. */
  readonly openConnections: Gauge;
  /** Connections closed because headers or body did not arrive in time. */
  readonly slowClientsClosed: Counter;
  /** `GET /events` clients connected now. */
  readonly sseClients: Gauge;
  /** Live events not sent to a slow `GET /events` client (its buffer was full). */
  readonly sseDropped: Counter;
  /** Messages on the ops subjects this process ignored, by subject and why (see `IgnoredReason`). */
  readonly opsMessagesIgnored: Counter<'subject' | 'reason'>;

  /** @param instance `INSTANCE_ID`, the `instance_id` label of every series */
  constructor(readonly instance = 'local') {
    // Start the process metrics now, so they cover the whole life of the process.
    processMetricsRegistry();
    this.registry.setDefaultLabels({ [INSTANCE_LABEL]: instance });
    const registers = [this.registry];
    const name = (n: string) => `${METRIC_PREFIX}${n}`;
    this.httpDuration = new Histogram({
      name: name('http_request_duration_seconds'),
      help: 'HTTP requests by method, matched route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: SECONDS_FAST,
      registers,
    });
    this.webhooksReceived = new Counter({ name: name('webhooks_received_total'), help: 'Webhook POSTs that reached the ingest route', labelNames: ['source'], registers });
    this.webhooksPublished = new Counter({ name: name('webhooks_published_total'), help: 'Webhooks stored in WEBHOOKS', labelNames: ['source'], registers });
    this.webhooksDuplicate = new Counter({ name: name('webhooks_duplicate_total'), help: 'Webhook resends inside the duplicate window', labelNames: ['source'], registers });
    this.webhooksRefused = new Counter({ name: name('webhooks_refused_total'), help: 'Webhooks refused at the edge, by error code', labelNames: ['source', 'code'], registers });
    this.deliveries = new Counter({ name: name('deliveries_total'), help: 'Deliveries handed to a pipeline', labelNames: ['source'], registers });
    this.processingDuration = new Histogram({
      name: name('processing_duration_seconds'),
      help: 'Duration of each delivery by outcome',
      labelNames: ['source', 'outcome'],
      buckets: SECONDS_SLOW,
      registers,
    });
    this.processingOutcomes = new Counter({ name: name('processing_outcomes_total'), help: 'Deliveries by outcome: done (ack confirmed), unconfirmed (done, ack not confirmed), retrying, exhausted, terminated', labelNames: ['source', 'outcome'], registers });
    this.duplicateDeliveriesSkipped = new Counter({
      name: name('duplicate_deliveries_skipped_total'),
      help: 'Redeliveries of webhooks already done for their stream sequence, acked without running the pipeline',
      labelNames: ['source'],
      registers,
    });
    this.deadLettered = new Counter({ name: name('dead_lettered_total'), help: 'Webhooks moved to DEAD_LETTERS', labelNames: ['source', 'reason'], registers });
    this.inFlight = new Gauge({ name: name('processing_in_flight'), help: 'Deliveries running now', labelNames: ['source'], registers });
    this.pending = new Gauge({ name: name('consumer_pending'), help: 'Webhooks waiting in a source consumer (num_pending + num_ack_pending)', labelNames: ['source'], registers });
    this.oldestWaiting = new Gauge({
      name: name('consumer_oldest_waiting_seconds'),
      help: 'Age of the oldest webhook a source consumer has not acknowledged yet (0 when none waits)',
      labelNames: ['source'],
      registers,
    });
    this.streamMessages = new Gauge({ name: name('stream_messages'), help: 'Messages in a stream (WEBHOOKS, DEAD_LETTERS)', labelNames: ['stream'], registers });
    this.streamBytes = new Gauge({ name: name('stream_bytes'), help: 'Bytes in a stream', labelNames: ['stream'], registers });
    this.streamMaxBytes = new Gauge({ name: name('stream_max_bytes'), help: 'max_bytes of a stream (-1: no limit)', labelNames: ['stream'], registers });
    this.streamMaxMessages = new Gauge({ name: name('stream_max_messages'), help: 'max_msgs of a stream (-1: no limit)', labelNames: ['stream'], registers });
    this.breakerState = new Gauge({ name: name('breaker_state'), help: 'Breaker state: 0 closed, 1 half-open, 2 open', labelNames: ['dependency'], registers });
    this.breakerTransitions = new Counter({ name: name('breaker_transitions_total'), help: 'Breaker transitions', labelNames: ['dependency', 'from', 'to'], registers });
    this.dependencyOwner = new Gauge({
      name: name('dependency_owner'),
      help: '1 while this instance holds the dependency lease in dependency-owners, else 0',
      labelNames: ['dependency'],
      registers,
    });
    this.natsLinkReady = new Gauge({
      name: name('nats_link_ready'),
      help: 'Processes of this instance, by role, whose NATS link is connected with the streams set up',
      labelNames: ['role'],
      registers,
    });
    // Every process reports the same count: an instance has it once, not once per process.
    this.processes = new Gauge({ name: name('processes'), help: 'Processes this instance runs, by role', labelNames: ['role'], aggregator: 'max', registers });
    this.mailboxDepth = new Gauge({ name: name('dependency_mailbox_depth'), help: 'Calls waiting in a dependency mailbox', labelNames: ['dependency'], registers });
    this.dependencyInFlight = new Gauge({ name: name('dependency_in_flight'), help: 'Calls a dependency runs now', labelNames: ['dependency'], registers });
    this.rateLimitWaits = new Counter({
      name: name('dependency_rate_limit_waits_total'),
      help: 'Times a dependency mailbox waited for a rate-limit token (rateLimit) or a Retry-After (retryAfter)',
      labelNames: ['dependency', 'reason'],
      registers,
    });
    this.mailboxWait = new Histogram({ name: name('dependency_mailbox_wait_seconds'), help: 'Time calls waited in the mailbox', labelNames: ['dependency'], buckets: SECONDS_SLOW, registers });
    this.dependencyCallDuration = new Histogram({
      name: name('dependency_call_duration_seconds'),
      help: 'Dependency calls by outcome and failure code',
      labelNames: ['dependency', 'outcome', 'code'],
      buckets: SECONDS_SLOW,
      registers,
    });
    this.dependencyCallsRefused = new Counter({ name: name('dependency_calls_refused_total'), help: 'Calls refused without being sent', labelNames: ['dependency', 'code'], registers });
    this.dependencyCrashes = new Counter({ name: name('dependency_crashes_total'), help: 'Dependency actor crashes', labelNames: ['dependency'], registers });
    this.ingestRateLimited = new Counter({ name: name('ingest_rate_limited_total'), help: 'Webhooks refused 429 by the per-IP limit', registers });
    this.ingestRateLimitClients = new Gauge({ name: name('ingest_rate_limit_clients'), help: 'Client IPs tracked by the per-IP limit', registers });
    this.connectionsRefused = new Counter({ name: name('connections_refused_total'), help: 'Connections answered 503 because MAX_CONNECTIONS were open', registers });
    this.openConnections = new Gauge({ name: name('open_connections'), help: 'Open HTTP connections', registers });
    this.slowClientsClosed = new Counter({
      name: name('slow_clients_closed_total'),
      help: 'Connections closed because headers or body did not arrive in time',
      registers,
    });
    this.sseClients = new Gauge({ name: name('sse_clients'), help: 'GET /events clients connected', registers });
    this.sseDropped = new Counter({ name: name('sse_dropped_events_total'), help: 'Live events not sent to a slow GET /events client', registers });
    this.opsMessagesIgnored = new Counter({
      name: name('ops_messages_ignored_total'),
      help: 'Messages on the ops subjects this process ignored, by subject and reason',
      labelNames: ['subject', 'reason'],
      registers,
    });
  }

  /** This process's metrics and its default metrics, as JSON, every series labelled `instance_id`. */
  async json(): Promise<MetricsJson> {
    const [own, processWide] = await Promise.all([this.registry.getMetricsAsJSON(), processMetricsRegistry().getMetricsAsJSON()]);
    const labelled = (processWide as MetricsJson).map((m) => ({
      ...m,
      // An instance started when its oldest process did (prom-client would leave the series out when summing processes).
      aggregator: m.aggregator === 'omit' ? ('min' as const) : m.aggregator,
      values: m.values.map((v) => ({ ...v, labels: { ...v.labels, [INSTANCE_LABEL]: this.instance } })),
    }));
    return [...(own as MetricsJson), ...labelled];
  }

  /** This process's metrics and its default metrics, as Prometheus text. */
  async text(): Promise<string> {
    return renderMetrics([await this.json()]);
  }
}

/** Prometheus text (format 0.0.4) of several processes' metrics, summed as each metric's aggregator says. */
export function renderMetrics(perProcess: MetricsJson[]): Promise<string> {
  return AggregatorRegistry.aggregate(perProcess).metrics();
}
