import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { connectionInbox } from '../bus/clientOptions.js';
import type { IgnoredMessages } from './ignoredMessages.js';
import { isPresence } from './opsSchemas.js';
import { decodeJson, type Presence } from './opsSubjects.js';
import { OpsSubjects } from '../bus/names.js';

/** Options of {@link OpsRoster}. */
export interface OpsRosterOptions {
  ignored: IgnoredMessages;
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
  /**
   * Most processes the roster holds, this one included. A newcomer beyond it
   * takes the place of the member that has not answered yet and was heard
   * least recently, or is not taken in.
   * @default 256
   */
  maxMembers?: number;
  /**
   * Most processes not heard before that the roster takes in per beat; the
   * others are taken in at a later beat (every process announces itself each beat).
   * @default 16
   */
  maxNewPerBeat?: number;
}

type ResolvedRosterOptions = Required<Omit<OpsRosterOptions, 'ignored'>>;

/**
 * {@link OpsRosterOptions} with every default applied.
 * @throws RangeError naming the first field that is not a positive integer.
 */
function resolveRosterOptions(o: OpsRosterOptions): ResolvedRosterOptions {
  const resolved = { beatMs: o.beatMs ?? 2000, missedBeats: o.missedBeats ?? 3, maxMembers: o.maxMembers ?? 256, maxNewPerBeat: o.maxNewPerBeat ?? 16 };
  for (const [field, value] of Object.entries(resolved)) {
    if (!(Number.isInteger(value) && value > 0)) throw new RangeError(`${field} must be a positive integer, got ${value}`);
  }
  return resolved;
}

/** What the roster knows of one member. */
interface Member {
  presence: Presence;
  seenAt: number;
  /** It has answered: a probe, or a request of the operating view. Only such members are waited for. */
  answered: boolean;
  /** The beat in which this process last answered its probe (once per beat at most). */
  probeAnsweredIn: number;
}

/** Whether two presences describe the same process. */
const sameProcess = (a: Presence, b: Presence) =>
  a.instance === b.instance && a.pid === b.pid && a.role === b.role && a.processing === b.processing && a.startedAt === b.startedAt;

/**
 * The live processes of the service across the cluster: each announces
 * itself on `webhook-relay.ops.presence` every `beatMs` (and says goodbye
 * when it stops), and every process keeps the list of those heard lately.
 * The operating view asks these for their part of `/stats` and `/metrics`,
 * and waits only for those that have answered before: a presence costs
 * nothing to send, an answer shows a process of the service at work.
 *
 * A presence is input like any other message: the roster holds at most
 * `maxMembers`, takes in at most `maxNewPerBeat` newcomers per beat, keeps
 * what it first heard of a member (a presence under the same id that says
 * another instance is ignored), and answers hellos with one presence per
 * beat however many arrive.
 */
export class OpsRoster {
  private readonly members = new Map<string, Member>();
  private readonly subscriptions: Subscription[] = [];
  private timer: NodeJS.Timeout | undefined;
  private nc: NatsConnection | undefined;
  private inbox = '';
  private readonly o: ResolvedRosterOptions;
  private readonly ttlMs: number;
  private beat = 0;
  private newThisBeat = 0;
  private helloAnsweredIn = -1;

  /** @throws RangeError when an option is not a positive integer */
  constructor(
    readonly self: Presence,
    private readonly options: OpsRosterOptions,
  ) {
    this.o = resolveRosterOptions(options);
    this.ttlMs = this.o.beatMs * this.o.missedBeats;
    this.members.set(self.member, { presence: self, seenAt: Number.POSITIVE_INFINITY, answered: true, probeAnsweredIn: -1 });
  }

  /** Joins the roster on `nc`: listens to the others and announces this process. */
  start(nc: NatsConnection): void {
    if (this.nc) return;
    this.nc = nc;
    this.inbox = connectionInbox(nc);
    this.subscriptions.push(
      nc.subscribe(OpsSubjects.presence, { callback: (err, msg) => (err ? undefined : this.heard(msg, false)) }),
      nc.subscribe(this.inbox, { callback: (err, msg) => (err ? undefined : this.heard(msg, true)) }),
    );
    // The others answer a newcomer's hello at once, which also shows that they answer.
    this.announce({ hello: true }, true);
    this.timer = setInterval(() => {
      this.beat++;
      this.newThisBeat = 0;
      // Forget the silent ones even while nobody asks, so restarts elsewhere do not pile up here.
      const live = this.live();
      this.announce({}, live.some((p) => !this.members.get(p.member)!.answered));
    }, this.o.beatMs);
    this.timer.unref();
  }

  /** Publishes this process's presence; `probe` asks every process that hears it to answer with its own. */
  private announce(extra: Pick<Presence, 'hello' | 'leaving'>, probe: boolean): void {
    const nc = this.nc;
    if (!nc || nc.isClosed() || nc.isDraining()) return;
    nc.publish(OpsSubjects.presence, JSON.stringify({ ...this.self, ...extra } satisfies Presence), probe ? { reply: this.inbox } : {});
  }

  /** A presence on the subject, or (`isAnswer`) one answering this process's probe. */
  private heard(msg: Msg, isAnswer: boolean): void {
    const message = decodeJson(msg.data);
    const subject = OpsSubjects.presence;
    if (!isPresence(message)) {
      this.options.ignored.note(subject, 'malformed', message);
      return;
    }
    if (message.member === this.self.member) return;
    const { hello, leaving, ...presence } = message;
    const known = this.members.get(presence.member);
    if (known && !sameProcess(known.presence, presence)) {
      this.options.ignored.note(subject, 'unknownSender', presence);
      return;
    }
    if (leaving) {
      this.members.delete(presence.member);
      return;
    }
    const member = known ?? this.admit(presence);
    if (!member) return;
    member.seenAt = Date.now();
    if (isAnswer) member.answered = true;
    else if (msg.reply) this.answerProbe(member, msg);
    // A newcomer learns of this process now rather than at its next beat; a burst of hellos gets one presence.
    if (hello && !known && this.helloAnsweredIn !== this.beat) {
      this.helloAnsweredIn = this.beat;
      this.announce({}, true);
    }
  }

  /** Takes in a process not heard before, within the caps; undefined when it does not fit. */
  private admit(presence: Presence): Member | undefined {
    if (this.newThisBeat >= this.o.maxNewPerBeat || (this.members.size >= this.o.maxMembers && !this.makeRoom())) {
      this.options.ignored.note(OpsSubjects.presence, 'overCapacity', presence);
      return undefined;
    }
    this.newThisBeat++;
    const member: Member = { presence, seenAt: Date.now(), answered: false, probeAnsweredIn: -1 };
    this.members.set(presence.member, member);
    return member;
  }

  /** Forgets the silent members, else the member that has not answered and was heard least recently; false when all have answered. */
  private makeRoom(): boolean {
    if (this.live().length < this.o.maxMembers) return true;
    let oldest: [string, Member] | undefined;
    for (const entry of this.members) if (!entry[1].answered && (!oldest || entry[1].seenAt < oldest[1].seenAt)) oldest = entry;
    if (oldest) this.members.delete(oldest[0]);
    return oldest !== undefined;
  }

  /** Answers a member's probe with this process's presence, once per beat per member. */
  private answerProbe(member: Member, msg: Msg): void {
    if (member.probeAnsweredIn === this.beat) return;
    member.probeAnsweredIn = this.beat;
    msg.respond(JSON.stringify(this.self satisfies Presence));
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

  /** The live member `member` as this process knows it; undefined for one it does not know. */
  known(member: string): Presence | undefined {
    return this.members.get(member)?.presence;
  }

  /** Whether `member` has answered (a probe, or a request): the operating view waits only for those. */
  hasAnswered(member: string): boolean {
    return this.members.get(member)?.answered === true;
  }

  /** Records that `member` answered a request of the operating view. */
  answered(member: string): void {
    const m = this.members.get(member);
    if (m) m.answered = true;
  }

  /** Says goodbye and stops listening. */
  stop(): void {
    clearInterval(this.timer);
    this.announce({ leaving: true }, false);
    for (const s of this.subscriptions.splice(0)) s.unsubscribe();
    this.nc = undefined;
  }
}
