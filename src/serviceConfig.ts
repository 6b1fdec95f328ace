import { availableParallelism } from 'node:os';
import type { LevelWithSilent } from 'pino';
import { sources } from './sources/registry.js';
import { loadClusterConfig, type ClusterConfig } from './config/cluster.js';
import { loadDependenciesConfig, type DependenciesConfig } from './dependencies/mod.js';
import { loadNatsClientConfig, parseNatsUrl } from './config/natsClient.js';
import type { IngestConfig } from './config/ingest.js';
import type { NatsConfig } from './config/nats.js';
import { ConfigError, durationVar, enumVar, intVar, readVar, type Env } from './config/parse.js';
import { loadSignatureConfig, secretVariable, MIN_SIGNED_DUPLICATE_WINDOW_MS, type SourceSignature } from './config/signatures.js';
import { loadProcessingConfig, type ProcessingConfig } from './config/processing.js';
import { loadProtectionConfig, type ProtectionConfig } from './config/protection.js';
import { readStoreKey } from './config/storeKey.js';


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
  const role = enumVar(env, 'SERVICE_ROLE', ['all', 'edge', 'worker'] as const, 'all');
  return {
    ingest: {
      port: intVar(env, 'PORT', 3000, { min: 0, max: 65535 }),
      host: readVar(env, 'HOST'),
      role,
      edgeProcesses: intVar(env, 'INGEST_WORKERS', defaultEdgeProcesses(role, availableParallelism()), { min: 1, max: 64 }),
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
      stepsTtlMs: durationVar(env, 'STEPS_TTL', 7 * 24 * 3_600_000, { minMs: 60_000 }),
    },
    processing: loadProcessingConfig(env, sources),
    protection: loadProtectionConfig(env),
    dependencies: loadDependenciesConfig(env),
    cluster: loadClusterConfig(env),
    logLevel: enumVar(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
  };
}

/**
 * Edge processes unless `INGEST_WORKERS` says otherwise: one per core, at
 * most 4, leaving a core to the processing of `SERVICE_ROLE=all`. On two
 * cores that is one process for everything: in `bench:e2e` there, two edge
 * processes beside the processing one cost more CPU per webhook and stored
 * fewer per second than one process doing both.
 */
export function defaultEdgeProcesses(role: 'all' | 'edge' | 'worker', cores: number): number {
  return Math.max(1, Math.min(4, role === 'all' ? cores - 1 : cores));
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
