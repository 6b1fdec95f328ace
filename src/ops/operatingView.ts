import { ClusterOps } from './clusterOps.js';
import { LocalOps, type WatchedDependencies } from './localOps.js';
import { OpsMetrics } from './metrics.js';
import type { OpsSource } from './opsSource.js';
import type { ProcessingEvents } from '../processing/processingEvents.js';
import type { NatsLink } from '../stream/connection.js';

/** One process's part of the operating view. */
export interface OperatingView {
  /** This process's metrics. */
  readonly metrics: OpsMetrics;
  /** Where this process's routes get their data. */
  readonly source: OpsSource;
  /** The data this process owns; undefined in an edge worker, which asks the primary. */
  readonly local: LocalOps | undefined;
  /** Counts the processor's events (no-op in an edge worker). */
  watchProcessing(events: ProcessingEvents): void;
  /** Counts the dependency actors' events and reports their state (no-op in an edge worker). */
  watchDependencies(dependencies: WatchedDependencies): void;
  stop(): void;
}

/**
 * Sets up the operating view of one process: an edge worker of a cluster
 * (`askPrimary`) reads it from the primary over IPC; any other process owns
 * its data.
 */
export function createOperatingView(o: { link: NatsLink; sources: Iterable<string>; askPrimary: boolean }): OperatingView {
  const metrics = new OpsMetrics();
  const local = o.askPrimary ? undefined : new LocalOps({ link: o.link, metrics, sources: [...o.sources] });
  const source = local ?? new ClusterOps(metrics);
  return {
    metrics,
    source,
    local,
    watchProcessing: (events) => local?.watchProcessing(events),
    watchDependencies: (dependencies) => local?.watchDependencies(dependencies),
    stop: () => source.stop(),
  };
}
