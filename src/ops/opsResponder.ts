import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Log } from '../log.js';
import type { IgnoredMessages } from './ignoredMessages.js';
import type { MetricsJson, OpsMetrics } from './metrics.js';
import { isWatch } from './opsSchemas.js';
import { decodeJson, type EventsBatch, type MemberRole, type MetricsReply, type Presence } from './opsSubjects.js';
import type { OpsRecorder } from './opsRecorder.js';
import { RecentWindow } from './recentWindow.js';
import { OpsSubjects } from '../bus/names.js';

/** What {@link OpsResponder} serves. */
export interface OpsResponderOptions {
  self: Presence;
  metrics: OpsMetrics;
  /** This process's processing data, when it runs processing. */
  recorder: OpsRecorder | undefined;
  /** Whether this process's NATS link is ready now. */
  linkReady: () => boolean;
  /** How many processes of each role this instance runs. */
  processes: Readonly<Record<MemberRole, number>>;
  /** Whether a member id is one of the service's live processes (the roster's). */
  isMember: (member: string) => boolean;
  /** Where the messages this process ignores are recorded. */
  ignored: IgnoredMessages;
  log: Log;
}

/**
 * This process's part of the operating view on NATS: it answers for its
 * metrics (on the cluster's subject for `/stats`, on its instance's for
 * `/metrics`), and when it runs processing, for its latest notable events,
 * and publishes its live events while some process says it watches.
 */
export class OpsResponder {
  private readonly subscriptions: Subscription[] = [];
  private watchedUntil = 0;
  private watchTimer: NodeJS.Timeout | undefined;
  private unsubscribeFeed: (() => void) | undefined;
  private nc: NatsConnection | undefined;
  private readonly window: RecentWindow;

  constructor(private readonly o: OpsResponderOptions) {
    this.window = new RecentWindow(() => o.metrics.json());
  }

  /**
   * This process's metrics, gauges refreshed (`nats`: the JetStream ones
   * too), and its latest delivery durations.
   */
  async collect(nats: boolean): Promise<MetricsReply> {
    await this.o.recorder?.refreshGauges(nats);
    this.refreshProcessGauges();
    const metrics: MetricsJson = await this.o.metrics.json();
    const { member, instance } = this.o.self;
    const recentGrowth = await this.window.sample(metrics);
    return { member, instance, metrics, recentDurationsMs: this.o.recorder?.recentDurations() ?? [], recentGrowth };
  }

  /**
   * This process's NATS link (1 or 0 under its own role, 0 under the
   * others, so every role's series exists in the instance's sum) and the
   * instance's process counts, which every process reports alike.
   */
  private refreshProcessGauges(): void {
    const { metrics, self, linkReady, processes } = this.o;
    for (const [role, count] of Object.entries(processes)) {
      metrics.processes.set({ role }, count);
      metrics.natsLinkReady.set({ role }, role === self.role && linkReady() ? 1 : 0);
    }
  }

  /** Starts answering on `nc`. */
  start(nc: NatsConnection): void {
    if (this.nc) return;
    this.nc = nc;
    const { self, recorder, log, ignored, isMember } = this.o;
    const answer = (subject: string, reply: () => Promise<unknown>) =>
      this.subscriptions.push(
        nc.subscribe(subject, {
          callback: (err, msg) => {
            // A process reads its own data directly; its own requests reach it too.
            if (err || msg.string() === self.member) return;
            void reply().then(
              (value) => msg.respond(JSON.stringify(value)),
              (e: unknown) => log.warn({ err: e, subject }, 'operating view answer failed'),
            );
          },
        }),
      );
    answer(OpsSubjects.metrics, () => this.collect(false));
    answer(OpsSubjects.instanceMetrics(self.instance), () => this.collect(true));
    if (!recorder) return;
    answer(OpsSubjects.recent, async () => ({ member: self.member, instance: self.instance, events: recorder.recent() }) satisfies EventsBatch);
    this.subscriptions.push(
      nc.subscribe(OpsSubjects.watch, {
        callback: (err, msg) => {
          if (err) return;
          const watch = decodeJson(msg.data);
          if (!isWatch(watch)) return ignored.note(OpsSubjects.watch, 'malformed', watch);
          // This process's own view reads its events directly.
          if (watch.member === self.member) return;
          if (!isMember(watch.member)) return ignored.note(OpsSubjects.watch, 'unknownSender', watch);
          this.watched(watch.forMs);
        },
      }),
    );
  }

  /** Publishes live events for `forMs` more (each watch message extends it). */
  private watched(forMs: number): void {
    const { self, recorder } = this.o;
    this.watchedUntil = Math.max(this.watchedUntil, Date.now() + forMs);
    this.unsubscribeFeed ??= recorder?.subscribe((events) => {
      const nc = this.nc;
      if (!nc || nc.isClosed() || nc.isDraining()) return;
      nc.publish(OpsSubjects.events(self.instance), JSON.stringify({ member: self.member, instance: self.instance, events: [...events] } satisfies EventsBatch));
    });
    this.watchTimer ??= setInterval(() => {
      if (Date.now() < this.watchedUntil) return;
      this.stopFeed();
    }, 1000);
    this.watchTimer.unref();
  }

  private stopFeed(): void {
    clearInterval(this.watchTimer);
    this.watchTimer = undefined;
    this.unsubscribeFeed?.();
    this.unsubscribeFeed = undefined;
  }

  stop(): void {
    this.window.stop();
    this.stopFeed();
    for (const s of this.subscriptions.splice(0)) s.unsubscribe();
    this.nc = undefined;
  }
}
