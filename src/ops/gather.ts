import type { Msg, NatsConnection } from '@nats-io/transport-node';
import type { IgnoredMessages } from './ignoredMessages.js';
import { decodeJson } from './opsSubjects.js';

/** What {@link gather} asks. */
export interface GatherRequest<T> {
  subject: string;
  /** The request's payload. */
  payload: string;
  /** Whether a decoded answer has the subject's shape, every field within its bounds. */
  accepts: (answer: unknown) => answer is T;
  /**
   * Who sent an answer (a member id, or an instance for answers per
   * instance), when it is one of `known` and the answer matches what this
   * process knows of it; undefined otherwise.
   */
  senderOf: (answer: T) => string | undefined;
  /** Every sender this process knows to answer on the subject. */
  known: ReadonlySet<string>;
  /** Of `known`, the senders waited for: those that have answered before. The others' answers count when they come in time. */
  expected: ReadonlySet<string>;
  /** Answers after this long are not waited for (nor listened to). */
  maxWaitMs: number;
  /** Called with each sender whose answer counts, also one that answers after the gather has returned. */
  onAnswer?: (sender: string) => void;
}

/** Answers by sender, and the expected senders that did not answer in time. */
export interface Gathered<T> {
  answers: Map<string, T>;
  missing: string[];
}

/**
 * Asks every responder on a subject (nats.js `requestMany`) and returns the
 * answers once each expected sender has answered or `maxWaitMs` has passed.
 * Only `expected` senders are waited for, so processes that have merely
 * announced themselves cannot hold the answer up; while other known
 * senders have not answered, the request stays open until `maxWaitMs`, and
 * their answers reach `onAnswer` only. An answer counts when it has the
 * subject's shape and comes from a known sender, and only the first from
 * each; the others are recorded in `ignored` and left out.
 */
export function gather<T>(nc: NatsConnection, r: GatherRequest<T>, ignored: IgnoredMessages): Promise<Gathered<T>> {
  const answers = new Map<string, T>();
  if (r.known.size === 0) return Promise.resolve({ answers, missing: [] });
  return new Promise((resolve) => {
    const heard = new Set<string>();
    let returned = false;
    const finish = () => {
      if (returned) return;
      returned = true;
      resolve({ answers, missing: [...r.expected].filter((k) => !answers.has(k)) });
    };
    const waitedFor = () => [...r.expected].every((k) => heard.has(k));
    // The answers of senders that are not waited for prove them for the next time.
    if (waitedFor()) finish();
    const counted = (msg: Msg): [string, T] | undefined => {
      const answer = decodeJson(msg.data);
      if (!r.accepts(answer)) return void ignored.note(r.subject, 'malformed', answer);
      const sender = r.senderOf(answer);
      if (sender === undefined || heard.has(sender)) return void ignored.note(r.subject, sender === undefined ? 'unknownSender' : 'duplicate', answer);
      return [sender, answer];
    };
    void (async () => {
      try {
        for await (const msg of await nc.requestMany(r.subject, r.payload, { strategy: 'timer', maxWait: r.maxWaitMs })) {
          const one = counted(msg);
          if (!one) continue;
          const [sender, answer] = one;
          heard.add(sender);
          if (!returned) answers.set(sender, answer);
          r.onAnswer?.(sender);
          if (waitedFor()) finish();
          if (heard.size >= r.known.size) break;
        }
      } catch {
        // No responders, or the connection closed: what arrived is the answer.
      }
      finish();
    })();
  });
}
