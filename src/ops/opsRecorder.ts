import { DEAD_LETTER_REASONS } from '../processing/deadLetters/deadLetterNames.js';
import type { DepEvent, DepEventListener, DependencyStatus } from '../dependencies/mod.js';
import type { ProcessingEvent, ProcessingEvents } from '../processing/processingEvents.js';
import { ProcessingCollector } from './collector.js';
import { LiveFeed } from './liveFeed.js';
import type { OpsMetrics } from './metrics.js';
import type { NatsSampler } from './natsSample.js';
import { actorStatus, type DependencyOwner, type LiveEvent, type LiveListener } from './opsReader.js';

/** The dependency runtime as the operating view watches it. */
export interface WatchedDependencies {
  subscribe(listener: DepEventListener): () => void;
  statuses(): DependencyStatus[];
  status(name: string): DependencyStatus | undefined;
  /** The owner of a cluster-scoped dependency. */
  owner?(name: string): DependencyOwner | undefined;
  /** Each cluster-scoped dependency, and whether this instance holds its lease now. */
  leases?(): Record<string, boolean>;
}

/** What {@link OpsRecorder} needs. */
export interface OpsRecorderOptions {
  /** `INSTANCE_ID`, which tags every live event. */
  instance: string;
  metrics: OpsMetrics;
  /** Reads backlogs and stream sizes for the gauges. */
  sampler: NatsSampler;
  /** Every registered source name. */
  sources: readonly string[];
}

const BREAKER_LEVEL = { closed: 0, halfOpen: 1, open: 2 } as const;
const RECENT_EVENTS = 50;

/**
 * The operating data of a process that runs processing: it counts the
 * processor's and the dependency actors' events into metrics, keeps the
 * latest notable events, sets the gauges that are read rather than counted,
 * and batches live events while someone watches.
 */
export class OpsRecorder {
  private readonly collector: ProcessingCollector;
  private readonly feed = new LiveFeed();
  private readonly unsubscribers: (() => void)[] = [];
  private dependencies: WatchedDependencies | undefined;
  /** The latest notable events, kept whether or not anyone listens. */
  private readonly notable: LiveEvent[] = [];

  constructor(private readonly o: OpsRecorderOptions) {
    this.collector = new ProcessingCollector(o.metrics);
    // A counter's first increment is visible to increase() only after a 0
    // sample: the series alerts read exist from the start, and again after a restart.
    for (const source of o.sources) {
      o.metrics.deliveries.inc({ source }, 0);
      o.metrics.duplicateDeliveriesSkipped.inc({ source }, 0);
      for (const outcome of ['done', 'unconfirmed'] as const) o.metrics.processingOutcomes.inc({ source, outcome }, 0);
      for (const reason of DEAD_LETTER_REASONS) o.metrics.deadLettered.inc({ source, reason }, 0);
    }
  }

  /** Counts the processor's events from now on. */
  watchProcessing(events: ProcessingEvents): void {
    this.unsubscribers.push(events.subscribe((e) => this.onProcessing(e)));
  }

  /** Counts the dependency actors' events from now on and reports their state. */
  watchDependencies(dependencies: WatchedDependencies): void {
    this.dependencies = dependencies;
    this.unsubscribers.push(dependencies.subscribe((e) => this.onDependency(e)));
  }

  /** The dependencies this process knows of (run here or elsewhere). */
  get watched(): WatchedDependencies | undefined {
    return this.dependencies;
  }

  private remember(event: LiveEvent): void {
    this.notable.push(event);
    if (this.notable.length > RECENT_EVENTS) this.notable.shift();
  }

  private onProcessing(e: ProcessingEvent): void {
    this.collector.onProcessing(e);
    if (e.type === 'webhook.duplicateSkipped' || e.type === 'webhook.ackUnconfirmed') return;
    if (e.type === 'webhook.processing' || (e.type === 'webhook.done' && !this.feed.active)) return;
    const outcome = e.type === 'webhook.done' ? 'done' : e.type === 'webhook.retrying' ? 'retrying' : e.type === 'webhook.failed' ? 'exhausted' : 'deadLettered';
    const event: LiveEvent = {
      type: 'webhook',
      instance: this.o.instance,
      outcome,
      source: e.source,
      id: e.id,
      seq: e.seq,
      deliveries: e.deliveries,
      ...('code' in e ? { code: e.code } : {}),
      ...('reason' in e ? { reason: e.reason } : {}),
      durationMs: e.durationMs,
      at: e.at,
    };
    if (outcome !== 'done') this.remember(event);
    this.feed.push(event);
  }

  private onDependency(e: DepEvent): void {
    this.collector.onDependency(e);
    if (!(e.type === 'dep.transition' || e.type === 'dep.crashed' || e.type === 'dep.started')) return;
    const current = this.dependencies?.status(e.dependency);
    const status = current && actorStatus(current, this.o.instance, this.dependencies?.owner?.(current.name));
    const instance = this.o.instance;
    let event: LiveEvent;
    if (e.type === 'dep.transition') {
      event = { type: 'actor', instance, cause: 'transition', dependency: e.dependency, from: e.from, to: e.to, reason: e.reason, at: e.at, status };
    } else {
      const reason = e.type === 'dep.crashed' ? e.error : `started (restarts: ${e.restarts})`;
      event = { type: 'actor', instance, cause: e.type === 'dep.crashed' ? 'crashed' : 'started', dependency: e.dependency, reason, at: e.at, status };
    }
    if (e.type !== 'dep.started') this.remember(event);
    this.feed.push(event);
  }

  /**
   * Sets the gauges that are read, not counted: breakers and mailboxes, and
   * with `nats`, backlogs and stream sizes (a round of JetStream requests).
   */
  async refreshGauges(nats: boolean): Promise<void> {
    const m = this.o.metrics;
    for (const d of this.dependencies?.statuses() ?? []) {
      m.breakerState.set({ dependency: d.name }, BREAKER_LEVEL[d.state]);
      m.mailboxDepth.set({ dependency: d.name }, d.queueLength);
      m.dependencyInFlight.set({ dependency: d.name }, d.inFlight);
    }
    for (const [dependency, held] of Object.entries(this.dependencies?.leases?.() ?? {})) m.dependencyOwner.set({ dependency }, held ? 1 : 0);
    if (!nats) return;
    const sample = await this.o.sampler.sample();
    for (const [source, b] of Object.entries(sample.consumers)) {
      if (!b) continue;
      m.pending.set({ source }, b.numPending + b.numAckPending);
      m.oldestWaiting.set({ source }, b.oldestWaitingAt === null ? 0 : Math.max(0, (Date.now() - b.oldestWaitingAt) / 1000));
    }
    for (const [stream, s] of [['WEBHOOKS', sample.webhooks], ['DEAD_LETTERS', sample.deadLetters]] as const) {
      if (!s) continue;
      m.streamMessages.set({ stream }, s.messages);
      m.streamBytes.set({ stream }, s.bytes);
    }
    for (const [stream, limits] of Object.entries(sample.limits)) {
      m.streamMaxBytes.set({ stream }, limits.maxBytes);
      m.streamMaxMessages.set({ stream }, limits.maxMessages);
    }
  }

  /** The durations of the latest deliveries, in ms. */
  recentDurations(): number[] {
    return this.collector.recentDurations();
  }

  /** The latest notable events (breaker changes, crashes, retries, dead letters), oldest first. */
  recent(): LiveEvent[] {
    return [...this.notable];
  }

  /**
   * Receives this process's live events in batches from now on.
   * @returns a function that unsubscribes
   */
  subscribe(listener: LiveListener): () => void {
    return this.feed.subscribe(listener);
  }

  stop(): void {
    for (const u of this.unsubscribers.splice(0)) u();
    this.feed.stop();
  }
}
