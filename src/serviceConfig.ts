import { availableParallelism } from 'node:os';
import type { LevelWithSilent } from 'pino';
import { sources } from './sources/registry.js';
import { loadClusterConfig, type ClusterConfig } from './config/cluster.js';
import { loadDependenciesConfig, type DependenciesConfig } from './dependencies/mod.js';
import { loadNatsClientConfig, parseNatsUrl, type NatsClientConfig } from './config/natsClient.js';
import { ConfigError, durationVar, enumVar, intVar, readVar, type Env } from './config/parse.js';
import { loadSignatureConfig, secretVariable, MIN_SIGNED_DUPLICATE_WINDOW_MS, type SourceSignature } from './config/signatures.js';
import { loadProcessingConfig, type ProcessingConfig } from './config/processing.js';
import { loadProtectionConfig, type ProtectionConfig } from './config/protection.js';
import type { Secret } from './config/secret.js';
import { readStoreKey } from './config/storeKey.js';

/** Settings of the HTTP edge and the ingest path. */
export interface IngestConfig {
  /** `PORT` @default 3000 */
  port: number;
  /** `HOST` @default undefined (all interfaces) */
  host: string | undefined;
  /** `SERVICE_ROLE`: `all` (edge and processing), `edge` (only the HTTP edge) or `worker` (only processing) @default 'all' */
  role: 'all' | 'edge' | 'worker';
  /** `INGEST_WORKERS`: edge processes (HTTP) sharing the port @default CPU cores, at most 4 */
  edgeProcesses: number;
  /** `MAX_BODY_BYTES` @default 1048576 */
  maxBodyBytes: number;
  /**
   * `DUPLICATE_WINDOW` in ms; at least {@link MIN_SIGNED_DUPLICATE_WINDOW_MS}
   * while any source has a secret, so a signed request cannot be stored twice.
   * @default 600000
   */
  duplicateWindowMs: number;
  /**
   * `INGEST_PUBLISH_DEADLINE` in ms: how long a webhook's publish is retried
   * while the stream has no leader, no quorum or no connection, before the
   * sender gets `503`; 0 answers at once.
   * @default 8000 (below GitHub's 10 s)
   */
  publishDeadlineMs: number;
  /** Sources that require a signature (`WEBHOOK_SECRET_<SOURCE>`), with their scheme and verifier. */
  signatures: ReadonlyMap<string, SourceSignature>;
}

/** Settings of the NATS connection and the `WEBHOOKS` stream. */
export interface NatsConfig {
  /**
   * `NATS_URL` without the credentials it may carry (those are in
   * {@link NatsConfig.client}); undefined starts a local nats-server from nats.conf.
   */
  url: string | undefined;
  /** Authentication, TLS and inbox prefix of the NATS connection. */
  client: NatsClientConfig;
  /** `DATA_DIR`: where the local nats-server keeps its store @default './data' */
  dataDir: string | undefined;
  /**
   * `NATS_STORE_KEY`, or the contents of `NATS_STORE_KEY_FILE`: encrypts the
   * local nats-server's JetStream store (never set together with `NATS_URL`)
   * @default undefined (the store is not encrypted)
   */
  storeKey: Secret | undefined;
  /** `WEBHOOKS_MAX_BYTES` @default 1073741824 (1 GiB) */
  streamMaxBytes: number;
  /** `WEBHOOKS_MAX_MSGS`; -1 is unlimited @default -1 */
  streamMaxMsgs: number;
  /** `DEAD_LETTERS_MAX_BYTES` @default 1073741824 (1 GiB) */
  deadLettersMaxBytes: number;
  /** `STATUS_TTL`: how long per-webhook statuses are kept, in ms @default 7 days */
  statusTtlMs: number;
}

/** The whole validated configuration, read once at start. */
export interface ServiceConfig {
  ingest: IngestConfig;
  nats: NatsConfig;
  processing: ProcessingConfig;
  /** Per-IP rate limit, connection cap and timeouts of the HTTP edge. */
  protection: ProtectionConfig;
  dependencies: DependenciesConfig;
  /** Replicas, instance name and dependency-owner leases for running on a NATS cluster. */
  cluster: ClusterConfig;
  /** `LOG_LEVEL` @default 'info' */
  logLevel: LevelWithSilent;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Reads and validates the environment.
 * @throws ConfigError naming the first variable with a bad value.
 */
export function loadConfig(env: Env): ServiceConfig {
  const signatures = loadSignatureConfig(env, sources.keys());
  const natsUrl = readVar(env, 'NATS_URL');
  const parsedNatsUrl = natsUrl === undefined ? undefined : parseNatsUrl(natsUrl);
  return {
    ingest: {
      port: intVar(env, 'PORT', 3000, { min: 0, max: 65535 }),
      host: readVar(env, 'HOST'),
      role: enumVar(env, 'SERVICE_ROLE', ['all', 'edge', 'worker'] as const, 'all'),
      edgeProcesses: intVar(env, 'INGEST_WORKERS', Math.min(4, availableParallelism()), { min: 1, max: 64 }),
      maxBodyBytes: intVar(env, 'MAX_BODY_BYTES', 1_048_576, { min: 1, max: 64 * 1024 * 1024 }),
      duplicateWindowMs: readDuplicateWindow(env, signatures),
      publishDeadlineMs: durationVar(env, 'INGEST_PUBLISH_DEADLINE', 8000, { maxMs: 60_000 }),
      signatures,
    },
    nats: {
      url: parsedNatsUrl?.servers.join(','),
      client: loadNatsClientConfig(env, parsedNatsUrl),
      dataDir: readVar(env, 'DATA_DIR'),
      storeKey: readStoreKey(env, natsUrl),
      streamMaxBytes: intVar(env, 'WEBHOOKS_MAX_BYTES', 1024 ** 3, { min: 1024 * 1024 }),
      streamMaxMsgs: intVar(env, 'WEBHOOKS_MAX_MSGS', -1, { min: -1 }),
      deadLettersMaxBytes: intVar(env, 'DEAD_LETTERS_MAX_BYTES', 1024 ** 3, { min: 1024 * 1024 }),
      statusTtlMs: durationVar(env, 'STATUS_TTL', 7 * 24 * 3_600_000, { minMs: 60_000 }),
    },
    processing: loadProcessingConfig(env, sources.keys()),
    protection: loadProtectionConfig(env),
    dependencies: loadDependenciesConfig(env),
    cluster: loadClusterConfig(env),
    logLevel: enumVar(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
  };
}

/**
 * `DUPLICATE_WINDOW`, refused below the time a signed request stays valid
 * while any source has a secret (issue 11: a resend after the window would
 * be stored twice).
 */
function readDuplicateWindow(env: Env, signatures: ReadonlyMap<string, SourceSignature>): number {
  const ms = durationVar(env, 'DUPLICATE_WINDOW', MIN_SIGNED_DUPLICATE_WINDOW_MS, { minMs: 1000, maxMs: 7 * 24 * 3_600_000 });
  const signed = [...signatures.keys()];
  if (signed.length > 0 && ms < MIN_SIGNED_DUPLICATE_WINDOW_MS) {
    const tolerance = MIN_SIGNED_DUPLICATE_WINDOW_MS / 2 / 60_000;
    throw new ConfigError(
      'DUPLICATE_WINDOW',
      `must be at least ${2 * tolerance}m while a signing secret is set (${signed.map(secretVariable).join(', ')}): ` +
        `a signature is accepted ${tolerance} minutes either side of its timestamp, so a resend could be stored twice; got '${readVar(env, 'DUPLICATE_WINDOW')}'`,
    );
  }
  return ms;
}
