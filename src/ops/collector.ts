import type { DepEvent } from '../dependencies/mod.js';
import type { ProcessingEvent } from '../processing/processingEvents.js';
import type { MetricsJson, OpsMetrics } from './metrics.js';
import { RecentDurations } from './recentDurations.js';
import { processingCountersFrom, type ProcessingCounters } from './stats.js';

/** What {@link ProcessingCollector.totals} reports. */
export interface ProcessingTotals extends ProcessingCounters {
  p99ProcessingMs: number | null;
  p99Window: number;
}

/** How each event that ends a delivery counts in `processing_outcomes_total`. */
const DELIVERY_OUTCOMES = {
  'webhook.done': 'done',
  'webhook.ackUnconfirmed': 'unconfirmed',
  'webhook.retrying': 'retrying',
  'webhook.failed': 'exhausted',
  'webhook.deadLettered': 'terminated',
} as const;

/**
 * Turns processing and dependency events into metrics; the counters of
 * `GET /stats` are read back from those metrics. A delivery is in flight from its
 * `webhook.processing` event until the event that ends it; a
 * `webhook.deadLettered` for a webhook not in flight is the dead-letter
 * mover acting on an advisory, which ends no delivery.
 */
export class ProcessingCollector {
  private readonly running = new Map<string, number>();
  private readonly recent = new RecentDurations();

  constructor(private readonly metrics: OpsMetrics) {}

  /** Counts a processing milestone. */
  onProcessing(e: ProcessingEvent): void {
    if (e.type === 'webhook.duplicateSkipped') {
      this.metrics.duplicateDeliveriesSkipped.inc({ source: e.source });
      return;
    }
    const key = `${e.source}\u0000${e.seq}`;
    if (e.type === 'webhook.processing') {
      this.running.set(key, e.at);
      this.metrics.deliveries.inc({ source: e.source });
      this.metrics.inFlight.inc({ source: e.source });
      return;
    }
    const endsDelivery = this.running.delete(key);
    if (endsDelivery) {
      this.metrics.inFlight.dec({ source: e.source });
      const outcome = DELIVERY_OUTCOMES[e.type];
      this.metrics.processingOutcomes.inc({ source: e.source, outcome });
      this.metrics.processingDuration.observe({ source: e.source, outcome }, e.durationMs / 1000);
      this.recent.add(e.durationMs);
    }
    if (e.type === 'webhook.deadLettered') {
      this.metrics.deadLettered.inc({ source: e.source, reason: e.reason });
    }
  }

  /** Counts a dependency actor's event. */
  onDependency(e: DepEvent): void {
    const m = this.metrics;
    const dependency = e.dependency;
    switch (e.type) {
      case 'dep.transition':
        m.breakerTransitions.inc({ dependency, from: e.from ?? 'none', to: e.to });
        break;
      case 'dep.callStarted':
        m.mailboxWait.observe({ dependency }, e.waitedMs / 1000);
        break;
      case 'dep.callSettled':
        m.dependencyCallDuration.observe({ dependency, outcome: e.outcome, code: e.code ?? '' }, e.durationMs / 1000);
        break;
      case 'dep.callRefused':
        m.dependencyCallsRefused.inc({ dependency, code: e.code });
        break;
      case 'dep.waiting':
        m.rateLimitWaits.inc({ dependency, reason: e.reason });
        break;
      case 'dep.crashed':
        m.dependencyCrashes.inc({ dependency });
        break;
      case 'dep.started':
        break;
    }
  }

  /** The durations of the latest deliveries, in ms (rounded to 0.1 ms). */
  recentDurations(): number[] {
    return this.recent.toArray().map((ms) => Math.round(ms * 10) / 10);
  }

  /**
   * The counters so far, read from `json` (this process's metrics when
   * omitted), with `known` sources present even before their first webhook.
   */
  async totals(known: Iterable<string> = [], json?: MetricsJson): Promise<ProcessingTotals> {
    return {
      ...processingCountersFrom(json ?? (await this.metrics.json()), known),
      p99ProcessingMs: this.recent.quantile(0.99),
      p99Window: this.recent.size,
    };
  }
}
