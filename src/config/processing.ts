import { ConfigError, durationListVar, durationVar, intVar, readVar, type Env } from './parse.js';

/** Webhooks of a source processed at once unless its definition or `<SOURCE>_CONCURRENCY` says otherwise. */
const DEFAULT_SOURCE_CONCURRENCY = 10;

/** What the processing settings need to know of a source. */
export interface SourceConcurrency {
  /** Webhooks processed at once unless `<SOURCE>_CONCURRENCY` says otherwise @default 10 */
  readonly defaultConcurrency?: number;
}

/** Settings of the consumers, retries and admin routes. */
export interface ProcessingConfig {
  /** `<SOURCE>_CONCURRENCY`: messages in flight per source @default the source's, else 10 */
  concurrency: ReadonlyMap<string, number>;
  /** `RETRY_BACKOFF`: nak delay after the 1st, 2nd, … failed delivery; the last repeats @default 1s,5s,30s,2m */
  retryBackoffMs: readonly number[];
  /** `MAX_DELIVER`: deliveries before a webhook is dead-lettered @default 5 */
  maxDeliver: number;
  /**
   * `ACK_WAIT` in ms: the source consumers' `ack_wait`. A webhook pulled by a
   * process that died comes back after this long; while a process holds one,
   * it tells JetStream it is working on it every third of this.
   * @default 5000
   */
  ackWaitMs: number;
  /** `SHUTDOWN_TIMEOUT_MS`: how long SIGTERM waits for running handlers @default 30000 */
  shutdownTimeoutMs: number;
  /** `ADMIN_TOKEN`: bearer token of the admin routes; unset disables them. */
  adminToken: string | undefined;
  /** `BOTPRESS_KB_ID`: knowledge base of `pages` webhooks that name none. */
  defaultKnowledgeBaseId: string | undefined;
  /** `RECONCILE_INTERVAL_MS`: how often acknowledged webhooks left in `WEBHOOKS` are removed @default 30000 */
  reconcileIntervalMs: number;
}

/**
 * Reads the processing variables for `sources`.
 * @throws ConfigError naming the first variable with a bad value.
 */
export function loadProcessingConfig(env: Env, sources: ReadonlyMap<string, SourceConcurrency>): ProcessingConfig {
  const concurrency = new Map<string, number>();
  for (const [s, { defaultConcurrency }] of sources) {
    concurrency.set(s, intVar(env, `${s.toUpperCase().replace(/-/g, '_')}_CONCURRENCY`, defaultConcurrency ?? DEFAULT_SOURCE_CONCURRENCY, { min: 1, max: 1000 }));
  }
  const retryBackoffMs = durationListVar(env, 'RETRY_BACKOFF', [1000, 5000, 30_000, 120_000]);
  if (retryBackoffMs.length === 0) throw new ConfigError('RETRY_BACKOFF', 'must list at least one duration');
  const adminToken = readVar(env, 'ADMIN_TOKEN');
  if (adminToken !== undefined && adminToken.length < 16) throw new ConfigError('ADMIN_TOKEN', 'must be at least 16 characters');
  return {
    concurrency,
    retryBackoffMs,
    maxDeliver: intVar(env, 'MAX_DELIVER', 5, { min: 1, max: 1000 }),
    ackWaitMs: durationVar(env, 'ACK_WAIT', 5000, { minMs: 1000, maxMs: 3_600_000 }),
    shutdownTimeoutMs: intVar(env, 'SHUTDOWN_TIMEOUT_MS', 30_000, { min: 0, max: 3_600_000 }),
    adminToken,
    defaultKnowledgeBaseId: readVar(env, 'BOTPRESS_KB_ID'),
    reconcileIntervalMs: intVar(env, 'RECONCILE_INTERVAL_MS', 30_000, { min: 1000, max: 3_600_000 }),
  };
}

/** Webhooks of `source` processed at once (`<SOURCE>_CONCURRENCY`). */
export function concurrencyOf(config: Pick<ProcessingConfig, 'concurrency'>, source: string): number {
  return config.concurrency.get(source) ?? DEFAULT_SOURCE_CONCURRENCY;
}
