/** The stream of dead letters. */
export const DEAD_LETTERS_STREAM = 'DEAD_LETTERS';
/** The stream capturing JetStream's advisories about `WEBHOOKS`. */
export const ADVISORIES_STREAM = 'ADVISORIES';
/** The durable consumer on `ADVISORIES` that moves messages to `DEAD_LETTERS`. */
export const MOVER_CONSUMER = 'dead-letter-mover';

/** Advisory subjects captured by `ADVISORIES`. */
export const ADVISORY_SUBJECTS = [
  '$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.WEBHOOKS.*',
  '$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.WEBHOOKS.*',
] as const;

/** A dead letter's subject: `dead.webhooks.<source>.<original seq>`, one per original message. */
export function deadLetterSubject(source: string, originalSeq: number): string {
  return `dead.webhooks.${source}.${originalSeq}`;
}

/** Headers every dead letter carries besides the original's. */
export const DlqHeaders = {
  OriginalSubject: 'Dlq-Original-Subject',
  OriginalSeq: 'Dlq-Original-Seq',
  /** `max_deliveries` or `terminated`. */
  Reason: 'Dlq-Reason',
  Deliveries: 'Dlq-Deliveries',
  /** `<code>: <message>` of the last failure. */
  LastError: 'Dlq-Last-Error',
  /** ISO-8601. */
  FailedAt: 'Dlq-Failed-At',
} as const;

/** Why a message is dead-lettered: out of deliveries, or terminated as a permanent failure. */
export const DEAD_LETTER_REASONS = ['max_deliveries', 'terminated'] as const;

/** Why a message was dead-lettered. */
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];
