import type { Counter } from 'prom-client';
import { ErrorCodes } from '../errors/codes.js';
import type { Log } from '../log.js';
import { canTake, createBucket, take, type TokenBucket } from '../tokenBucket.js';

/**
 * Why a message on an ops subject was ignored: it is not what the subject
 * carries (`malformed`), it comes from no process this one knows as the
 * service's own, or claims another instance or role than the roster knows
 * (`unknownSender`), it is a second answer from the same process to one
 * request (`duplicate`), or it announces a process beyond the roster's caps
 * (`overCapacity`).
 */
export type IgnoredReason = 'malformed' | 'unknownSender' | 'duplicate' | 'overCapacity';

/** Options of {@link IgnoredMessages}. */
export interface IgnoredMessagesOptions {
  log: Log;
  /** Counts every ignored message, by subject and reason. */
  counter?: Counter<'subject' | 'reason'>;
  /**
   * Most log lines a minute; the lines left out are counted in the next one.
   * @default 10
   */
  linesPerMinute?: number;
  /**
   * Senders remembered as already logged; beyond it the memory starts again.
   * @default 1024
   */
  maxSenders?: number;
  /**
   * How long a sender stays logged: a problem that goes on is logged again after it.
   * @default 600000
   */
  rememberMs?: number;
}

/**
 * The messages on the ops subjects that this process ignores. Each is
 * counted; it is logged with `OPS_BAD_MESSAGE` once per sender, subject and
 * reason (again after `rememberMs`), and at most `linesPerMinute` lines a
 * minute, so that a flood of forged messages floods neither the log nor memory.
 */
export class IgnoredMessages {
  private readonly logged = new Set<string>();
  private bucket: TokenBucket;
  private readonly maxSenders: number;
  private leftOut = 0;
  private rememberedSince = Date.now();

  constructor(private readonly o: IgnoredMessagesOptions) {
    const perMinute = o.linesPerMinute ?? 10;
    if (!(Number.isInteger(perMinute) && perMinute > 0)) throw new RangeError(`linesPerMinute must be a positive integer, got ${perMinute}`);
    this.maxSenders = o.maxSenders ?? 1024;
    if (!(Number.isInteger(this.maxSenders) && this.maxSenders > 0)) throw new RangeError(`maxSenders must be a positive integer, got ${this.maxSenders}`);
    this.bucket = createBucket({ rate: perMinute / 60, burst: perMinute }, Date.now());
  }

  /**
   * Records one ignored message.
   * @param subject the subject, as a fixed name (`webhook-relay.ops.events.*` for any instance's events)
   * @param message the message, decoded, for the sender it claims (`member`, `instance`)
   */
  note(subject: string, reason: IgnoredReason, message?: unknown): void {
    this.o.counter?.inc({ subject, reason });
    const sender = claimedSender(message);
    const key = `${subject} ${reason} ${sender.member ?? ''} ${sender.instance ?? ''}`;
    const now = Date.now();
    if (now - this.rememberedSince > (this.o.rememberMs ?? 600_000)) {
      this.logged.clear();
      this.rememberedSince = now;
    }
    if (this.logged.has(key)) return;
    if (!canTake(this.bucket, 1, now)) {
      this.leftOut++;
      return;
    }
    this.bucket = take(this.bucket, 1, now);
    if (this.logged.size >= this.maxSenders) this.logged.clear();
    this.logged.add(key);
    const leftOut = this.leftOut;
    this.leftOut = 0;
    this.o.log.warn(
      { code: ErrorCodes.OPS_BAD_MESSAGE, subject, reason, ...sender, ...(leftOut > 0 ? { notLogged: leftOut } : {}) },
      'ignored a message on an ops subject',
    );
  }
}

/** The `member` and `instance` a message claims, where they are strings (a malformed message may carry anything). */
function claimedSender(message: unknown): { member?: string; instance?: string } {
  const out: { member?: string; instance?: string } = {};
  if (typeof message !== 'object' || message === null) return out;
  const { member, instance } = message as Record<string, unknown>;
  if (typeof member === 'string') out.member = member.slice(0, 64);
  if (typeof instance === 'string') out.instance = instance.slice(0, 64);
  return out;
}
