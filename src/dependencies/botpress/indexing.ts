import { DependencyError, RejectedError, isDependencyError } from '../runtime/errors.js';
import type { BotpressFile } from './schemas.js';

/** Time as the indexing wait reads it; tests replace it to run the schedule without waiting. */
export interface PollClock {
  /** Epoch ms. */
  now(): number;
  /** Resolves after `ms`. */
  sleep(ms: number): Promise<void>;
}

/** The wall clock and `setTimeout`. */
export const systemClock: PollClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

const FIRST_POLL_MS = 500;
const POLL_FACTOR = 1.5;
const MAX_POLL_MS = 4000;

/**
 * The wait before poll number `attempt` (from 0): 500 ms, growing 1.5 times
 * per poll, at most 4 s (500, 750, 1125, 1687.5, 2531.25, 3796.875, 4000, ...).
 */
export function pollDelayMs(attempt: number): number {
  return Math.min(FIRST_POLL_MS * POLL_FACTOR ** attempt, MAX_POLL_MS);
}

/** Options of {@link waitForIndexing}. */
export interface IndexingWait {
  /** The actor's name, for the errors raised. */
  dependency: string;
  /** Time the wait may take (`BOTPRESS_INDEX_TIMEOUT_MS`). */
  timeoutMs: number;
  clock: PollClock;
}

/** The indexed file and how many polls it took. */
export interface IndexedFile {
  file: BotpressFile;
  polls: number;
}

/**
 * Polls `file` with {@link pollDelayMs} between polls until it is
 * `indexing_completed`; the last wait is cut short so one poll lands on the
 * deadline. A retriable poll failure (the breaker open, a 5xx, a 429) is
 * waited out like a pending status; a permanent one ends the wait.
 * @throws RejectedError (`DEP_REJECTED`, permanent) when the upload or the
 * indexing failed; DependencyError `DEP_TIMEOUT` (retriable) when the deadline
 * passes first; the poll's failure when it is permanent.
 */
export async function waitForIndexing(
  file: BotpressFile,
  poll: (fileId: string) => Promise<BotpressFile>,
  { dependency, timeoutMs, clock }: IndexingWait,
): Promise<IndexedFile> {
  const deadline = clock.now() + timeoutMs;
  let current = file;
  let polls = 0;
  let lastError: DependencyError | undefined;
  for (;;) {
    const details = { fileId: current.id, key: current.key, status: current.status, failedStatusReason: current.failedStatusReason };
    if (current.status === 'indexing_completed') return { file: current, polls };
    if (current.status === 'indexing_failed' || current.status === 'upload_failed') {
      throw new RejectedError(dependency, `file ${current.key}: ${current.status} (${current.failedStatusReason ?? 'no reason given'})`, { details });
    }
    const left = deadline - clock.now();
    if (left <= 0) {
      const message = `file ${current.key} not indexed within ${timeoutMs} ms (last status ${current.status}${lastError ? `, last poll ${lastError.code}` : ''})`;
      throw new DependencyError('DEP_TIMEOUT', dependency, message, { details, cause: lastError });
    }
    await clock.sleep(Math.min(pollDelayMs(polls), left));
    polls += 1;
    try {
      current = await poll(current.id);
      lastError = undefined;
    } catch (e) {
      if (!isDependencyError(e) || !e.retriable) throw e;
      lastError = e;
    }
  }
}
