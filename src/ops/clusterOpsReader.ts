import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { AggregatorRegistry } from 'prom-client';
import { isInstanceActors, type InstanceActors } from '../dependencies/mod.js';
import { ErrorCodes } from '../errors/codes.js';
import { ServiceError } from '../errors/serviceError.js';
import type { NatsLink } from '../bus/connection.js';
import { buildActorsView } from './actorsView.js';
import { gather } from './gather.js';
import type { IgnoredMessages } from './ignoredMessages.js';
import { LiveFeed } from './liveFeed.js';
import { renderMetrics, type MetricsJson } from './metrics.js';
import type { NatsSampler } from './natsSample.js';
import type { OpsResponder } from './opsResponder.js';
import { isEventsBatch, isMetricsReply } from './opsSchemas.js';
import { decodeJson, type MetricsReply, type OpsRequest, type Presence, type Watch } from './opsSubjects.js';
import type { ActorsView, LiveEvent, LiveListener, OpsReader } from './opsReader.js';
import type { OpsRecorder } from './opsRecorder.js';
import { nearestRank } from './recentDurations.js';
import { RECENT_WINDOW_MS } from './recentWindow.js';
import type { OpsRoster } from './roster.js';
import { processingCountersFrom, ingestCountersFrom, sumOf, type ServiceStats } from './stats.js';
import { OpsSubjects } from '../bus/names.js';

/** What {@link ClusterOpsReader} reads from. */
export interface ClusterOpsReaderOptions {
  link: NatsLink;
  roster: OpsRoster;
  responder: OpsResponder;
  /** This process's processing data, when it runs processing. */
  recorder: OpsRecorder | undefined;
  sampler: NatsSampler;
  /** Every registered source name. */
  sources: readonly string[];
  /** Where the messages this process ignores are recorded. */
  ignored: IgnoredMessages;
  /**
   * How long to wait for the other processes' answers.
   * @default 1000
   */
  maxWaitMs?: number;
  /**
   * How often a process with `/events` clients says so on `webhook-relay.ops.watch`.
   * @default 2000
   */
  watchBeatMs?: number;
}

const RECENT_EVENTS = 50;

function unavailable(message: string): ServiceError {
  return new ServiceError(ErrorCodes.OPS_UNAVAILABLE, message, { status: 503, expose: true, retriable: true, headers: { 'Retry-After': '1' } });
}

/**
 * The operating view as any process serves it, whatever it runs: `/stats`
 * sums every live process of every instance (asked over NATS, this one
 * read directly), `/metrics` sums this instance's processes, `/actors`
 * shows each dependency as the instance running it reports it, and the live
 * feed merges every instance's events. Without NATS it falls back to this
 * process alone, and says so.
 */
export class ClusterOpsReader implements OpsReader {
  private readonly self: Presence;
  private readonly startedAt = Date.now();
  private readonly maxWaitMs: number;
  private readonly feed: LiveFeed;
  private feedStoppers: (() => void)[] = [];
  private feedRunning = false;

  constructor(private readonly o: ClusterOpsReaderOptions) {
    this.self = o.roster.self;
    this.maxWaitMs = o.maxWaitMs ?? 1000;
    this.feed = new LiveFeed({
      snapshot: async () => {
        const [stats, actors] = await Promise.all([this.stats(), this.actors()]);
        return { type: 'snapshot', at: Date.now(), stats, actors } satisfies LiveEvent;
      },
    });
  }

  /** The connection, while it is usable. */
  private nc(): NatsConnection | undefined {
    const nc = this.o.link.nc;
    return nc && !nc.isClosed() && !nc.isDraining() ? nc : undefined;
  }

  /** The common part of a request on `subject`: it names this process, which does not answer itself. */
  private ask(subject: string): { subject: string; payload: OpsRequest; maxWaitMs: number } {
    return { subject, payload: this.self.member satisfies OpsRequest, maxWaitMs: this.maxWaitMs };
  }

  /** Live processes other than this one that `keep` accepts, by member id. */
  private others(keep: (p: Presence) => boolean = () => true): Map<string, Presence> {
    return new Map(this.o.roster.live().filter((p) => p.member !== this.self.member && keep(p)).map((p) => [p.member, p]));
  }

  /**
   * The part of a request to `others` every gather shares: who may answer,
   * who is waited for (those that answered before), and that an answer
   * proves its sender.
   */
  private from(others: ReadonlyMap<string, Presence>) {
    const roster = this.o.roster;
    return {
      known: new Set(others.keys()),
      expected: new Set([...others.keys()].filter((m) => roster.hasAnswered(m))),
      onAnswer: (member: string) => roster.answered(member),
    };
  }

  /** The member an answer comes from, when it is one of `others` under the instance the roster knows it by. */
  private static senderIn(others: ReadonlyMap<string, Presence>) {
    return (answer: { member: string; instance: string }) => (others.get(answer.member)?.instance === answer.instance ? answer.member : undefined);
  }

  /** This process's metrics and those of the other live processes `keep` accepts, asked on `subject`. */
  private async collect(subject: string, nats: boolean, keep?: (p: Presence) => boolean): Promise<{ replies: MetricsReply[]; unanswered: Presence[] }> {
    const others = this.others(keep);
    const request = { ...this.ask(subject), ...this.from(others), accepts: isMetricsReply, senderOf: ClusterOpsReader.senderIn(others) };
    const nc = this.nc();
    const [own, gathered] = await Promise.all([
      this.o.responder.collect(nats),
      nc ? gather(nc, request, this.o.ignored) : { answers: new Map<string, MetricsReply>(), missing: [...request.expected] },
    ]);
    return { replies: [own, ...gathered.answers.values()], unanswered: gathered.missing.map((m) => others.get(m)!) };
  }

  async stats(): Promise<ServiceStats> {
    const [{ replies, unanswered }, sample] = await Promise.all([this.collect(OpsSubjects.metrics, false), this.o.sampler.sample()]);
    const json =
      replies.length === 1 ? replies[0]!.metrics : ((await AggregatorRegistry.aggregate(replies.map((r) => r.metrics)).getMetricsAsJSON()) as unknown as MetricsJson);
    const ingest = ingestCountersFrom(json);
    const processing = processingCountersFrom(json, this.o.sources);
    const durations = replies.flatMap((r) => r.recentDurationsMs);
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
      at: new Date(now).toISOString(),
      instance: this.self.instance,
      uptimeS: Math.round((now - this.startedAt) / 1000),
      covers: {
        instances: [...new Set(replies.map((r) => r.instance))].sort(),
        processes: replies.length,
        unanswered: unanswered.map((p) => ({ instance: p.instance, pid: p.pid })),
      },
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
      p99ProcessingMs: nearestRank(durations, 0.99),
      p99Window: durations.length,
      successRate: finished === 0 ? null : Math.round((processed / finished) * 10_000) / 10_000,
      recentWindow: {
        seconds: RECENT_WINDOW_MS / 1000,
        refused: replies.reduce((n, r) => n + r.recentGrowth.refused, 0),
        retried: replies.reduce((n, r) => n + r.recentGrowth.retried, 0),
        deadLettered: replies.reduce((n, r) => n + r.recentGrowth.deadLettered, 0),
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
    const watched = this.o.recorder?.watched;
    const nc = this.nc();
    // A processing process knows its own instance's actors; it asks the others. An answer names
    // no process, only its instance: it counts from an instance whose processing process has answered before.
    const others = this.others((p) => p.processing && !(watched && p.instance === this.self.instance) && this.o.roster.hasAnswered(p.member));
    const runningProcessing = new Set([...others.values()].map((p) => p.instance));
    let answers = new Map<string, InstanceActors>();
    if (nc) {
      const request = {
        ...this.ask(OpsSubjects.actors),
        known: runningProcessing,
        expected: runningProcessing,
        accepts: isInstanceActors,
        senderOf: (a: InstanceActors) => (runningProcessing.has(a.instance) ? a.instance : undefined),
      };
      answers = (await gather(nc, request, this.o.ignored)).answers;
    } else if (!watched) {
      throw unavailable('no connection to NATS, and this process runs no dependency actors');
    }
    if (!watched && runningProcessing.size > 0 && answers.size === 0) throw unavailable(`no instance running processing answered within ${this.maxWaitMs} ms`);
    const local = watched ? { instance: this.self.instance, statuses: watched.statuses(), owner: (name: string) => watched.owner?.(name) } : undefined;
    return { at: new Date().toISOString(), dependencies: buildActorsView(this.self.instance, [...answers.values()], local) };
  }

  async recent(): Promise<LiveEvent[]> {
    const own = this.o.recorder?.recent() ?? [];
    const others = this.others((p) => p.processing);
    const nc = this.nc();
    if (!nc || others.size === 0) return own;
    const request = { ...this.ask(OpsSubjects.recent), ...this.from(others), accepts: isEventsBatch, senderOf: ClusterOpsReader.senderIn(others) };
    const { answers } = await gather(nc, request, this.o.ignored);
    const all = [...own, ...[...answers.values()].flatMap((r) => r.events)];
    return all.sort((a, b) => a.at - b.at).slice(-RECENT_EVENTS);
  }

  async metrics(): Promise<string> {
    const instance = this.self.instance;
    const { replies } = await this.collect(OpsSubjects.instanceMetrics(instance), true, (p) => p.instance === instance);
    return renderMetrics(replies.map((r) => r.metrics));
  }

  subscribe(listener: LiveListener): () => void {
    const unsubscribe = this.feed.subscribe(listener);
    if (!this.feedRunning) this.startFeed();
    return () => {
      unsubscribe();
      if (!this.feed.active) this.stopFeed();
    };
  }

  /** Merges this process's events (directly) and every other instance's (over NATS, while it says it watches). */
  private startFeed(): void {
    this.feedRunning = true;
    const push = (events: readonly LiveEvent[]) => {
      for (const e of events) this.feed.push(e);
    };
    if (this.o.recorder) this.feedStoppers.push(this.o.recorder.subscribe(push));
    const nc = this.nc();
    if (!nc) return;
    const beatMs = this.o.watchBeatMs ?? 2000;
    const subscription: Subscription = nc.subscribe(OpsSubjects.allEvents, {
      callback: (err, msg) => {
        if (err) return;
        const batch = decodeJson(msg.data);
        if (!isEventsBatch(batch)) return this.o.ignored.note(OpsSubjects.allEvents, 'malformed', batch);
        if (batch.member === this.self.member) return;
        // Only a process running processing publishes events, each on its own instance's subject.
        const sender = this.o.roster.known(batch.member);
        if (!sender?.processing || sender.instance !== batch.instance || msg.subject !== OpsSubjects.events(batch.instance)) {
          return this.o.ignored.note(OpsSubjects.allEvents, 'unknownSender', batch);
        }
        push(batch.events);
      },
    });
    const watch = () => {
      if (!nc.isClosed() && !nc.isDraining()) nc.publish(OpsSubjects.watch, JSON.stringify({ member: this.self.member, forMs: 3 * beatMs } satisfies Watch));
    };
    watch();
    const timer = setInterval(watch, beatMs);
    timer.unref();
    this.feedStoppers.push(
      () => subscription.unsubscribe(),
      () => clearInterval(timer),
    );
  }

  private stopFeed(): void {
    this.feedRunning = false;
    for (const s of this.feedStoppers.splice(0)) s();
  }

  stop(): void {
    this.stopFeed();
    this.feed.stop();
  }
}
