import { headers, type MsgHdrs } from '@nats-io/transport-node';
import type { JetStreamClient } from '@nats-io/jetstream';
import { type DeadLetterReason } from './deadLetterNames.js';
import { DEAD_LETTERS_STREAM, DlqHeaders, deadLetterSubject } from '../../bus/names.js';

/** The original message, as far as a dead letter copies it. */
export interface OriginalMessage {
  subject: string;
  seq: number;
  data: Uint8Array;
  headers: MsgHdrs | undefined;
}

/** Why and how a message died. */
export interface Death {
  reason: DeadLetterReason;
  deliveries: number;
  /** `<code>: <message>`. */
  lastError: string;
  failedAt: Date;
  /** The pipeline steps that had finished, journaled. */
  stepsDone?: readonly string[];
}

/** The source of a `webhooks.<source>` subject. */
export function sourceOfSubject(subject: string): string {
  return subject.split('.')[1] ?? 'unknown';
}

/**
 * The webhook's own headers: everything but NATS's publish controls
 * (`Nats-Msg-Id`, `Nats-Expected-*`) and the `Dlq-*` ones.
 */
export function webhookHeaders(source: MsgHdrs | undefined): MsgHdrs {
  const h = headers();
  for (const [k, values] of source ?? []) {
    const lower = k.toLowerCase();
    if (lower.startsWith('nats-') || lower.startsWith('dlq-')) continue;
    for (const v of values) h.append(k, v);
  }
  return h;
}

/** A dead letter's headers: the webhook's own plus the `Dlq-*` ones. */
function deadLetterHeaders(original: OriginalMessage, death: Death): MsgHdrs {
  const h = webhookHeaders(original.headers);
  h.set(DlqHeaders.OriginalSubject, original.subject);
  h.set(DlqHeaders.OriginalSeq, String(original.seq));
  h.set(DlqHeaders.Reason, death.reason);
  h.set(DlqHeaders.Deliveries, String(death.deliveries));
  h.set(DlqHeaders.LastError, death.lastError.replace(/[\r\n]+/g, ' ').slice(0, 1000));
  h.set(DlqHeaders.FailedAt, death.failedAt.toISOString());
  if (death.stepsDone?.length) h.set(DlqHeaders.StepsDone, [...death.stepsDone].sort().join(','));
  return h;
}

/**
 * Stores a dead letter for `original`, deduplicated by a message id derived
 * from the original sequence, so the processor and the advisory mover may
 * both write it.
 * @returns the dead letter's subject and sequence in `DEAD_LETTERS`
 */
export async function writeDeadLetter(js: JetStreamClient, original: OriginalMessage, death: Death): Promise<{ subject: string; seq: number }> {
  const subject = deadLetterSubject(sourceOfSubject(original.subject), original.seq);
  const ack = await js.publish(subject, original.data, {
    msgID: `dlq-${original.seq}`,
    headers: deadLetterHeaders(original, death),
    expect: { streamName: DEAD_LETTERS_STREAM },
  });
  return { subject, seq: ack.seq };
}
