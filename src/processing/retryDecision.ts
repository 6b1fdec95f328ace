import { isServiceError } from '../errors/serviceError.js';
import type { FailureSummary } from '../store/webhookStatus.js';

/** What to do with a message whose handler failed. */
export type RetryDecision =
  /** Redeliver after `delayMs` (`nak` with delay). */
  | { kind: 'retry'; delayMs: number }
  /** Retriable, but this was the last allowed delivery: JetStream's MAX_DELIVERIES advisory dead-letters it. */
  | { kind: 'exhausted' }
  /** Permanent: dead-letter it now and `term` it. */
  | { kind: 'terminate' };

/** Retry settings. */
export interface RetryPolicy {
  /** Delay after the 1st, 2nd, … failed delivery; the last one repeats. */
  backoffMs: readonly number[];
  /** Deliveries allowed in all (`max_deliver`). */
  maxDeliver: number;
}

/**
 * Decides, from the error and the delivery count, whether to retry (and
 * when), give up, or terminate. Errors that carry `retriable: false` are
 * permanent; anything else is retried. A dependency's own wait hint
 * (`retryAfterMs` of an open breaker or a 429) lengthens the delay.
 */
export function decideRetry(error: unknown, deliveryCount: number, policy: RetryPolicy): RetryDecision {
  if (isServiceError(error) && !error.retriable) return { kind: 'terminate' };
  if (deliveryCount >= policy.maxDeliver) return { kind: 'exhausted' };
  const { backoffMs } = policy;
  const base = backoffMs[Math.min(Math.max(deliveryCount, 1), backoffMs.length) - 1]!;
  const hint = (error as { retryAfterMs?: unknown })?.retryAfterMs;
  return { kind: 'retry', delayMs: typeof hint === 'number' && hint > base ? hint : base };
}

/** Summarises any thrown value with a stable code. */
export function summarizeFailure(error: unknown): FailureSummary {
  if (isServiceError(error)) return { code: error.code, message: error.message, retriable: error.retriable };
  return { code: 'PROCESSING_HANDLER_FAILED', message: (error as Error)?.message ?? String(error), retriable: true };
}
