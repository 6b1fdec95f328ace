/** Why a message is dead-lettered: out of deliveries, or terminated as a permanent failure. */
export const DEAD_LETTER_REASONS = ['max_deliveries', 'terminated'] as const;

/** Why a message was dead-lettered. */
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];
