import type { NatsConnection } from '@nats-io/transport-node';
import { ErrorCodes } from '../errors/codes.js';
import type { Log } from '../log.js';
import { decodeJson } from './opsSubjects.js';

/** What {@link gather} asks. */
export interface GatherRequest<T> {
  subject: string;
  /** The request's payload. */
  payload: string;
  /** Who should answer (keys as {@link GatherRequest.keyOf} gives them). */
  expected: ReadonlySet<string>;
  /** Whether a decoded answer has the subject's shape. */
  accepts: (answer: unknown) => answer is T;
  /** The key of an answer, to match it with {@link expected}. */
  keyOf: (answer: T) => string;
  /** Answers after this long are not waited for. */
  maxWaitMs: number;
}

/** Answers by key, and the expected ones that did not answer in time. */
export interface Gathered<T> {
  answers: Map<string, T>;
  missing: string[];
}

/**
 * Asks every responder on a subject (nats.js `requestMany`) and collects the
 * answers until each expected responder has answered or `maxWaitMs` has
 * passed. Answers from responders not expected are kept too (a process that
 * started a moment ago); malformed ones are logged with `OPS_BAD_MESSAGE`
 * and left out.
 */
export async function gather<T>(nc: NatsConnection, r: GatherRequest<T>, log: Log): Promise<Gathered<T>> {
  const answers = new Map<string, T>();
  const done = () => [...r.expected].every((k) => answers.has(k));
  if (r.expected.size === 0) return { answers, missing: [] };
  try {
    for await (const msg of await nc.requestMany(r.subject, r.payload, { strategy: 'timer', maxWait: r.maxWaitMs })) {
      const answer = decodeJson(msg.data);
      if (!r.accepts(answer)) {
        log.warn({ code: ErrorCodes.OPS_BAD_MESSAGE, subject: r.subject }, 'ignored an answer that is not one');
        continue;
      }
      answers.set(r.keyOf(answer), answer);
      if (done()) break;
    }
  } catch {
    // No responders, or the connection closed: what arrived is the answer.
  }
  return { answers, missing: [...r.expected].filter((k) => !answers.has(k)) };
}
