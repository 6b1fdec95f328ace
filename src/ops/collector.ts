import type { DepEvent } from '../deps/events.js';
import type { ProcessingEvent } from '../processing/processingEvents.js';
import type { OpsMetrics } from './metrics.js';
import { RecentDurations } from './recentDurations.js';

/** Processing counters of one source. */
export interface SourceTotals {
  deliveries: number;
  processed: number;
  failed: number;
  retried: number;
  deadLettered: number;
  inFlight: number;
}

/** What {@link ProcessingCollector.totals} reports. */
export interface ProcessingTotals {
  sources: Record<string, SourceTotals>;
  avgProcessingMs: number | null;
  p99ProcessingMs: number | null;
  p99Window: number;
}

const emptyTotals = (): SourceTotals => ({ deliveries: 0, processed: 0, failed: 0, retried: 0, deadLettered: 0, inFlight: 0 });

/**
 * Turns processing and dependency events into metrics and into the
 * counters of `GET /stats`. A delivery is in flight from its
 * `webhook.processing` event until the event that ends it; a
 * `webhook.deadLettered` for a webhook not in flight is the dead-letter
 * mover acting on an advisory, which ends no delivery.
 */
export class ProcessingCollector {
  private readonly sources = new Map<string, SourceTotals>();
  private readonly running = new Map<string, number>();
  private readonly recent = new RecentDurations();
  private durationSumMs = 0;
  private durationCount = 0;

  constructor(private readonly metrics: OpsMetrics) {}

  private of(source: string): SourceTotals {
    let t = this.sources.get(source);
    if (!t) this.sources.set(source, (t = emptyTotals()));
    return t;
  }

  /** Counts a processing milestone. */
  onProcessing(e: ProcessingEvent): void {
    const t = this.of(e.source);
    const key = `${e.source}\u0000${e.seq}`;
    if (e.type === 'webhook.processing') {
      this.running.set(key, e.at);
      t.deliveries++;
      t.inFlight++;
      this.metrics.deliveries.inc({ source: e.source });
      this.metrics.inFlight.inc({ source: e.source });
      return;
    }
    const endsDelivery = this.running.delete(key);
    if (endsDelivery) {
      t.inFlight--;
      this.metrics.inFlight.dec({ source: e.source });
      const outcome = e.type === 'webhook.done' ? 'done' : e.type === 'webhook.retrying' ? 'retrying' : e.type === 'webhook.failed' ? 'exhausted' : 'terminated';
      this.metrics.processingOutcomes.inc({ source: e.source, outcome });
      this.metrics.processingDuration.observe({ source: e.source, outcome }, e.durationMs / 1000);
      this.recent.add(e.durationMs);
      this.durationSumMs += e.durationMs;
      this.durationCount++;
      if (outcome === 'done') t.processed++;
      else t.failed++;
      if (outcome === 'retrying') t.retried++;
    }
    if (e.type === 'webhook.deadLettered') {
      t.deadLettered++;
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

  /** The counters so far, per source, with `known` sources present even before their first webhook. */
  totals(known: Iterable<string> = []): ProcessingTotals {
    for (const s of known) this.of(s);
    const sources: Record<string, SourceTotals> = {};
    for (const [name, t] of this.sources) sources[name] = { ...t };
    return {
      sources,
      avgProcessingMs: this.durationCount === 0 ? null : Math.round((this.durationSumMs / this.durationCount) * 100) / 100,
      p99ProcessingMs: this.recent.quantile(0.99),
      p99Window: this.recent.size,
    };
  }
}
