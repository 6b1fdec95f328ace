import { AggregatorRegistry } from 'prom-client';
import type { DepEvent, DepEventListener } from '../runtime/dependencyEvents.js';
import type { DependencyStatus } from '../runtime/status.js';
import type { ProcessingEvent, ProcessingEvents } from '../processing/processingEvents.js';
import type { NatsLink } from '../stream/connection.js';
import { ProcessingCollector } from './collector.js';
import { LiveFeed } from './liveFeed.js';
import type { MetricsJson, OpsMetrics } from './metrics.js';
import { NatsSampler, type NatsSample } from './natsSample.js';
import { actorStatus, type ActorsView, type DependencyOwner, type LiveEvent, type LiveListener, type OpsSource } from './opsSource.js';
import { RecentIncrease } from './recentIncrease.js';
import { ingestCountersFrom, sumOf, type ServiceStats } from './stats.js';

/** The dependency runtime as the operating view watches it. */
export interface WatchedDependencies {
  subscribe(listener: DepEventListener): () => void;
  statuses(): DependencyStatus[];
  status(name: string): DependencyStatus | undefined;
  /**
   * Every dependency as seen by the instance that runs it (in a cluster).
   * @default statuses()
   */
  clusterStatuses?(): Promise<DependencyStatus[]>;
  /** The owner of a cluster-scoped dependency. */
  owner?(name: string): DependencyOwner | undefined;
}

/** Other processes' metrics (the edge workers'), when this process is the cluster's primary. */
export type PeerMetrics = () => Promise<MetricsJson[]>;

/** What {@link LocalOps} needs. */
export interface LocalOpsOptions {
  link: NatsLink;
  metrics: OpsMetrics;
  /** Every registered source name. */
  sources: readonly string[];
}

const BREAKER_LEVEL = { closed: 0, halfOpen: 1, open: 2 } as const;
const RECENT_EVENTS = 50;
/** The status page's "last minutes": refusals and retries in it make its verdict a warning. */
const RECENT_WINDOW_MS = 5 * 60_000;
const RECENT_STEP_MS = 10_000;

/**
 * The operating view of the process that runs processing (or of a lone
 * edge): it counts processing and dependency events, samples NATS, and
 * answers `/stats`, `/actors`, `/metrics` and the live feed, adding the
 * edge workers' metrics when it is the cluster's primary.
 */
export class LocalOps implements OpsSource {
  private readonly collector: ProcessingCollector;
  private readonly feed: LiveFeed;
  private readonly sampler: NatsSampler;
  private readonly unsubscribers: (() => void)[] = [];
  private dependencies: WatchedDependencies | undefined;
  private peers: PeerMetrics | undefined;
  private readonly startedAt = Date.now();
  /** The latest notable events, kept whether or not anyone listens. */
  private readonly notable: LiveEvent[] = [];
  private readonly recentRefused: RecentIncrease;
  private readonly recentRetried: RecentIncrease;
  private readonly recentDeadLettered: RecentIncrease;
  /** Samples the counters even while nobody asks for `/stats`, so the window stays honest. */
  private readonly recentTimer: NodeJS.Timeout;

  constructor(private readonly o: LocalOpsOptions) {
    const now = Date.now();
    this.recentRefused = new RecentIncrease(RECENT_WINDOW_MS, RECENT_STEP_MS, now);
    this.recentRetried = new RecentIncrease(RECENT_WINDOW_MS, RECENT_STEP_MS, now);
    this.recentDeadLettered = new RecentIncrease(RECENT_WINDOW_MS, RECENT_STEP_MS, now);
    this.recentTimer = setInterval(() => void this.stats().catch(() => undefined), RECENT_STEP_MS);
    this.recentTimer.unref();
    this.collector = new ProcessingCollector(o.metrics);
    this.sampler = new NatsSampler(() => (o.link.ready ? o.link.jsm : undefined), o.sources);
    this.feed = new LiveFeed({
      snapshot: async () => {
        const [stats, actors] = await Promise.all([this.stats(), this.actors()]);
        return { type: 'snapshot', at: Date.now(), stats, actors } satisfies LiveEvent;
      },
    });
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

  /** Adds other processes' metrics (the edge workers') to every answer. */
  setPeers(peers: PeerMetrics | undefined): void {
    this.peers = peers;
  }

  private remember(event: LiveEvent): void {
    this.notable.push(event);
    if (this.notable.length > RECENT_EVENTS) this.notable.shift();
  }

  private onProcessing(e: ProcessingEvent): void {
    this.collector.onProcessing(e);
    if (e.type === 'webhook.processing' || (e.type === 'webhook.done' && !this.feed.active)) return;
    const outcome = e.type === 'webhook.done' ? 'done' : e.type === 'webhook.retrying' ? 'retrying' : e.type === 'webhook.failed' ? 'exhausted' : 'deadLettered';
    const event: LiveEvent = {
      type: 'webhook',
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
    const status = current && actorStatus(current, this.dependencies?.owner?.(current.name));
    let event: LiveEvent;
    if (e.type === 'dep.transition') {
      event = { type: 'actor', cause: 'transition', dependency: e.dependency, from: e.from, to: e.to, reason: e.reason, at: e.at, status };
    } else {
      const reason = e.type === 'dep.crashed' ? e.error : `started (restarts: ${e.restarts})`;
      event = { type: 'actor', cause: e.type === 'dep.crashed' ? 'crashed' : 'started', dependency: e.dependency, reason, at: e.at, status };
    }
    if (e.type !== 'dep.started') this.remember(event);
    this.feed.push(event);
  }

  /** Sets the gauges that are read, not counted: backlogs, stream sizes, breakers, mailboxes. */
  private async refreshGauges(): Promise<NatsSample> {
    const m = this.o.metrics;
    const sample = await this.sampler.sample();
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
    for (const d of this.dependencies?.statuses() ?? []) {
      m.breakerState.set({ dependency: d.name }, BREAKER_LEVEL[d.state]);
      m.mailboxDepth.set({ dependency: d.name }, d.queueLength);
      m.dependencyInFlight.set({ dependency: d.name }, d.inFlight);
    }
    return sample;
  }

  /** Own metrics plus the peers', as one list per process. */
  private async allMetricsJson(): Promise<MetricsJson[]> {
    const [own, peers] = await Promise.all([this.o.metrics.json(), this.peers ? this.peers() : Promise.resolve([])]);
    return [own, ...peers];
  }

  async stats(): Promise<ServiceStats> {
    const [sample, perProcess] = await Promise.all([this.refreshGauges(), this.allMetricsJson()]);
    const merged = perProcess.length === 1 ? perProcess[0]! : (AggregatorRegistry.aggregate(perProcess).getMetricsAsJSON() as unknown as Promise<MetricsJson>);
    const json = await merged;
    const ingest = ingestCountersFrom(json);
    const processing = await this.collector.totals(this.o.sources, json);
    const sources: ServiceStats['sources'] = {};
    let processed = 0;
    let failed = 0;
    let retried = 0;
    let deadLettered = 0;
    let inFlight = 0;
    for (const [name, t] of Object.entries(processing.sources)) {
      const b = sample.consumers[name];
      sources[name] = {
        pending: b ? b.numPending + b.numAckPending : null,
        numPending: b?.numPending ?? null,
        numAckPending: b?.numAckPending ?? null,
        received: ingest.received[name] ?? 0,
        published: ingest.published[name] ?? 0,
        processed: t.processed,
        failed: t.failed,
        retried: t.retried,
        deadLettered: t.deadLettered,
        inFlight: t.inFlight,
      };
      processed += t.processed;
      failed += t.failed;
      retried += t.retried;
      deadLettered += t.deadLettered;
      inFlight += t.inFlight;
    }
    const finished = processed + deadLettered;
    const now = Date.now();
    const refusedTotal = sumOf(ingest.refusedByCode);
    return {
      at: new Date().toISOString(),
      uptimeS: Math.round((Date.now() - this.startedAt) / 1000),
      received: sumOf(ingest.received),
      published: sumOf(ingest.published),
      duplicates: sumOf(ingest.duplicates),
      refused: { total: refusedTotal, byCode: ingest.refusedByCode },
      processed,
      failed,
      retried,
      deadLettered,
      inFlight,
      avgProcessingMs: processing.avgProcessingMs,
      p99ProcessingMs: processing.p99ProcessingMs,
      p99Window: processing.p99Window,
      successRate: finished === 0 ? null : Math.round((processed / finished) * 10_000) / 10_000,
      recentWindow: {
        seconds: RECENT_WINDOW_MS / 1000,
        refused: this.recentRefused.record(refusedTotal, now),
        retried: this.recentRetried.record(retried, now),
        deadLettered: this.recentDeadLettered.record(deadLettered, now),
      },
      sources,
      stream: sample.webhooks,
      deadLetters: sample.deadLetters,
      protection: {
        rateLimited: ingest.rateLimited,
        connectionsRefused: ingest.connectionsRefused,
        slowClientsClosed: ingest.slowClientsClosed,
        openConnections: ingest.openConnections,
        sseClients: ingest.sseClients,
        sseDropped: ingest.sseDropped,
      },
      nats: this.o.link.status(),
    };
  }

  async actors(): Promise<ActorsView> {
    const deps = this.dependencies;
    const statuses = (await deps?.clusterStatuses?.()) ?? deps?.statuses() ?? [];
    return { at: new Date().toISOString(), dependencies: statuses.map((d) => actorStatus(d, deps?.owner?.(d.name))) };
  }

  async recent(): Promise<LiveEvent[]> {
    return [...this.notable];
  }

  async metrics(): Promise<string> {
    await this.refreshGauges();
    if (!this.peers) return this.o.metrics.text();
    return AggregatorRegistry.aggregate(await this.allMetricsJson()).metrics();
  }

  subscribe(listener: LiveListener): () => void {
    return this.feed.subscribe(listener);
  }

  stop(): void {
    clearInterval(this.recentTimer);
    for (const u of this.unsubscribers.splice(0)) u();
    this.feed.stop();
  }
}
