import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { ErrorCodes } from '../errors/codes.js';
import type { Log } from '../log.js';
import { decodeJson, isPresence, OpsSubjects, type Presence } from './opsSubjects.js';

/** Options of {@link OpsRoster}. */
export interface OpsRosterOptions {
  log: Log;
  /**
   * How often this process announces itself.
   * @default 2000
   */
  beatMs?: number;
  /**
   * Beats a member may miss before it counts as gone.
   * @default 3
   */
  missedBeats?: number;
}

/**
 * The live processes of the service across the cluster: each announces
 * itself on `webhook-relay.ops.presence` every `beatMs` (and says goodbye
 * when it stops), and every process keeps the list of those heard lately.
 * The operating view asks exactly these for their part of `/stats` and
 * `/metrics`, and says which did not answer.
 */
export class OpsRoster {
  private readonly members = new Map<string, { presence: Presence; seenAt: number }>();
  private subscription: Subscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  private nc: NatsConnection | undefined;
  private readonly beatMs: number;
  private readonly ttlMs: number;

  constructor(
    readonly self: Presence,
    private readonly o: OpsRosterOptions,
  ) {
    this.beatMs = o.beatMs ?? 2000;
    this.ttlMs = this.beatMs * (o.missedBeats ?? 3);
    this.members.set(self.member, { presence: self, seenAt: Number.POSITIVE_INFINITY });
  }

  /** Joins the roster on `nc`: listens to the others and announces this process. */
  start(nc: NatsConnection): void {
    if (this.nc) return;
    this.nc = nc;
    this.subscription = nc.subscribe(OpsSubjects.presence, { callback: (err, msg) => (err ? undefined : this.heard(decodeJson(msg.data))) });
    this.announce({ hello: true });
    this.timer = setInterval(() => {
      this.announce();
      // Forget the silent ones even while nobody asks, so restarts elsewhere do not pile up here.
      this.live();
    }, this.beatMs);
    this.timer.unref();
  }

  private announce(extra: Pick<Presence, 'hello' | 'leaving'> = {}): void {
    const nc = this.nc;
    if (!nc || nc.isClosed() || nc.isDraining()) return;
    nc.publish(OpsSubjects.presence, JSON.stringify({ ...this.self, ...extra } satisfies Presence));
  }

  private heard(message: unknown): void {
    if (!isPresence(message)) {
      this.o.log.warn({ code: ErrorCodes.OPS_BAD_MESSAGE, subject: OpsSubjects.presence }, 'ignored a presence message that is not one');
      return;
    }
    if (message.member === this.self.member) return;
    if (message.leaving) {
      this.members.delete(message.member);
      return;
    }
    const known = this.members.has(message.member);
    this.members.set(message.member, { presence: message, seenAt: Date.now() });
    // A newcomer learns of this process now rather than at its next beat.
    if (message.hello && !known) this.announce();
  }

  /** The processes heard from within the last few beats, this one included. */
  live(now = Date.now()): Presence[] {
    const out: Presence[] = [];
    for (const [member, m] of this.members) {
      if (now - m.seenAt > this.ttlMs) this.members.delete(member);
      else out.push(m.presence);
    }
    return out;
  }

  /** Says goodbye and stops listening. */
  stop(): void {
    clearInterval(this.timer);
    this.announce({ leaving: true });
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    this.nc = undefined;
  }
}
