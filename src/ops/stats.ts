import type { MetricsJson } from './metrics.js';
import { METRIC_PREFIX } from './metrics.js';

/** One source's numbers in `GET /stats`. */
export interface SourceStats {
  /** `num_pending` + `num_ack_pending` of its consumer; null when NATS is not reachable. */
  pending: number | null;
  /** Not yet delivered. */
  numPending: number | null;
  /** Delivered, not yet acknowledged (running or waiting for a retry). */
  numAckPending: number | null;
  received: number;
  published: number;
  processed: number;
  failed: number;
  retried: number;
  deadLettered: number;
  inFlight: number;
}

/** A stream's size. */
export interface StreamStats {
  messages: number;
  bytes: number;
  /** Sequence of the oldest and newest message (0 when empty). */
  firstSeq: number;
  lastSeq: number;
}

/** Which processes `GET /stats` adds up. */
export interface StatsCoverage {
  /** `INSTANCE_ID` of every instance that answered. */
  instances: string[];
  /** Processes that answered (an instance's primary and each of its edge processes count one each). */
  processes: number;
  /** Processes heard from lately that have answered before and did not answer in time; their counters are missing. */
  unanswered: { instance: string; pid: number }[];
}

/**
 * `GET /stats`: the whole cluster. Counters are summed over every live
 * process of every instance (each counts since it started); backlogs and
 * stream sizes are the streams' own.
 */
export interface ServiceStats {
  /** ISO time of this snapshot. */
  at: string;
  /** `INSTANCE_ID` of the instance that answered. */
  instance: string;
  /** Seconds since the answering process started. */
  uptimeS: number;
  /** Whose counters are summed. */
  covers: StatsCoverage;
  /** `POST /webhooks/*` requests that reached the route. */
  received: number;
  /** Stored in `WEBHOOKS` (202). */
  published: number;
  /** Resends inside the duplicate window (202, nothing stored). */
  duplicates: number;
  /** Refused at the edge, by error code. */
  refused: { total: number; byCode: Record<string, number> };
  /** Deliveries that ended with the result stored. */
  processed: number;
  /** Deliveries that failed (retried, exhausted or terminated). */
  failed: number;
  /** Failed deliveries scheduled for another attempt. */
  retried: number;
  /** Webhooks moved to `DEAD_LETTERS`. */
  deadLettered: number;
  /** Deliveries running now. */
  inFlight: number;
  /** Mean duration of every finished delivery; null before the first. */
  avgProcessingMs: number | null;
  /** 99th percentile of the last deliveries' durations (see `p99Window`); null before the first. */
  p99ProcessingMs: number | null;
  /** How many recent deliveries `p99ProcessingMs` covers. */
  p99Window: number;
  /**
   * processed / (processed + deadLettered) since start: the share of finished
   * webhooks that were processed without being dead-lettered; null before any.
   */
  successRate: number | null;
  /** What happened in the last minutes (`seconds`), for the status page's verdict. */
  recentWindow: { seconds: number; refused: number; retried: number; deadLettered: number };
  sources: Record<string, SourceStats>;
  /** `WEBHOOKS`; null when NATS is not reachable. */
  stream: StreamStats | null;
  /** `DEAD_LETTERS`; null when NATS is not reachable. */
  deadLetters: StreamStats | null;
  /** What the ingest protection did. */
  protection: ProtectionCounters;
  nats: { ready: boolean; reason: string };
}

/** What the ingest protection did: refusals, slow senders, open connections and live-feed clients. */
export interface ProtectionCounters {
  rateLimited: number;
  connectionsRefused: number;
  slowClientsClosed: number;
  openConnections: number;
  sseClients: number;
  sseDropped: number;
}

/** The edge's counters, read back from (possibly aggregated) metrics. */
export interface IngestCounters extends ProtectionCounters {
  received: Record<string, number>;
  published: Record<string, number>;
  duplicates: Record<string, number>;
  refusedByCode: Record<string, number>;
}

/**
 * Sums a metric's values grouped by one label ('' groups everything under ''),
 * keeping only the values `keep` accepts (a histogram's `_sum`, one outcome).
 */
function sumBy(json: MetricsJson, metric: string, label: string, keep: (v: MetricsJson[number]['values'][number]) => boolean = () => true): Record<string, number> {
  const out: Record<string, number> = {};
  const m = json.find((x) => x.name === `${METRIC_PREFIX}${metric}`);
  for (const v of m?.values ?? []) {
    if (!keep(v)) continue;
    const key = label === '' ? '' : String(v.labels[label] ?? '');
    out[key] = (out[key] ?? 0) + v.value;
  }
  return out;
}

const total = (json: MetricsJson, metric: string, keep?: Parameters<typeof sumBy>[3]) => sumBy(json, metric, '', keep)[''] ?? 0;

/**
 * Reads the edge's counters from metrics JSON, so that the same code works
 * for one process and for the sum of every edge process.
 */
export function ingestCountersFrom(json: MetricsJson): IngestCounters {
  return {
    received: sumBy(json, 'webhooks_received_total', 'source'),
    published: sumBy(json, 'webhooks_published_total', 'source'),
    duplicates: sumBy(json, 'webhooks_duplicate_total', 'source'),
    refusedByCode: sumBy(json, 'webhooks_refused_total', 'code'),
    rateLimited: total(json, 'ingest_rate_limited_total'),
    connectionsRefused: total(json, 'connections_refused_total'),
    slowClientsClosed: total(json, 'slow_clients_closed_total'),
    openConnections: total(json, 'open_connections'),
    sseClients: total(json, 'sse_clients'),
    sseDropped: total(json, 'sse_dropped_events_total'),
  };
}

/** Sum of a record's values. */
export function sumOf(r: Record<string, number>): number {
  let s = 0;
  for (const v of Object.values(r)) s += v;
  return s;
}

/** Keeps one series of a histogram (`_sum`, `_count`); prom-client's JSON names it in `metricName`. */
const seriesOf = (suffix: string) => (v: object) => (v as { metricName?: string }).metricName?.endsWith(suffix) === true;

/** Processing counters of one source. */
export interface SourceTotals {
  deliveries: number;
  processed: number;
  failed: number;
  retried: number;
  deadLettered: number;
  inFlight: number;
}

/** The processing counters, read back from (possibly aggregated) metrics. */
export interface ProcessingCounters {
  sources: Record<string, SourceTotals>;
  /** Mean of `processing_duration_seconds` in ms (two decimals); null before the first delivery ends. */
  avgProcessingMs: number | null;
}

/**
 * Reads the processing counters from metrics JSON, the one place they are
 * counted; `known` sources are listed even before their first webhook.
 */
export function processingCountersFrom(json: MetricsJson, known: Iterable<string> = []): ProcessingCounters {
  const deliveries = sumBy(json, 'deliveries_total', 'source');
  const processed = sumBy(json, 'processing_outcomes_total', 'source', (v) => v.labels.outcome === 'done');
  const failed = sumBy(json, 'processing_outcomes_total', 'source', (v) => v.labels.outcome !== 'done');
  const retried = sumBy(json, 'processing_outcomes_total', 'source', (v) => v.labels.outcome === 'retrying');
  const deadLettered = sumBy(json, 'dead_lettered_total', 'source');
  const inFlight = sumBy(json, 'processing_in_flight', 'source');
  const names = new Set([...known, ...Object.keys(deliveries), ...Object.keys(deadLettered)]);
  const sources: Record<string, SourceTotals> = {};
  for (const n of names) {
    sources[n] = {
      deliveries: deliveries[n] ?? 0,
      processed: processed[n] ?? 0,
      failed: failed[n] ?? 0,
      retried: retried[n] ?? 0,
      deadLettered: deadLettered[n] ?? 0,
      inFlight: inFlight[n] ?? 0,
    };
  }
  const durationS = total(json, 'processing_duration_seconds', seriesOf('_sum'));
  const count = total(json, 'processing_duration_seconds', seriesOf('_count'));
  return { sources, avgProcessingMs: count === 0 ? null : Math.round(((durationS * 1000) / count) * 100) / 100 };
}
