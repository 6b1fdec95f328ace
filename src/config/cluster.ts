import { hostname } from 'node:os';
import { ConfigError, enumVar, intVar, readVar, type Env } from './parse.js';

/** Replica counts JetStream can keep a stream at (an odd number for a quorum). */
export const REPLICA_COUNTS = [1, 3, 5] as const;

/** How many copies of every stream and KV bucket the cluster keeps. */
export type ReplicaCount = (typeof REPLICA_COUNTS)[number];

/** Settings for running several instances against one NATS cluster. */
export interface ClusterConfig {
  /** `NATS_REPLICAS`: `num_replicas` of every stream and KV bucket the service creates @default 1 */
  replicas: ReplicaCount;
  /**
   * `INSTANCE_ID`: this instance's name in leases, subjects and the operating view;
   * letters, digits, `-` and `_` only (safe as a NATS subject token and KV key)
   * @default '<hostname>-<pid>' with other characters replaced by '-'
   */
  instanceId: string;
  /** `DEP_OWNER_LEASE_MS`: how long a dependency owner's lease lasts without renewal @default 10000 */
  depOwnerLeaseMs: number;
  /**
   * `BROWSER_SCOPE`: `instance` gives every instance its own Chromium actor
   * (a local resource); `cluster` makes the browser one owner like the others
   * @default 'instance'
   */
  browserScope: 'instance' | 'cluster';
}

/** What an `INSTANCE_ID` may be: a NATS subject token and KV key. */
export const INSTANCE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** The default `INSTANCE_ID`: host name and pid, reduced to subject-safe characters. */
export function defaultInstanceId(host = hostname(), pid = process.pid): string {
  return `${host.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 50)}-${pid}`;
}

/**
 * Reads `NATS_REPLICAS`, `INSTANCE_ID`, `DEP_OWNER_LEASE_MS` and `BROWSER_SCOPE`.
 * @throws ConfigError naming the first variable with a bad value.
 */
export function loadClusterConfig(env: Env): ClusterConfig {
  const replicas = Number(enumVar(env, 'NATS_REPLICAS', REPLICA_COUNTS.map(String), '1')) as ReplicaCount;
  const instanceId = readVar(env, 'INSTANCE_ID') ?? defaultInstanceId();
  if (!INSTANCE_ID_PATTERN.test(instanceId)) {
    throw new ConfigError('INSTANCE_ID', `must be 1 to 64 letters, digits, '-' or '_' (it becomes a NATS subject token), got '${instanceId}'`);
  }
  return {
    replicas,
    instanceId,
    depOwnerLeaseMs: intVar(env, 'DEP_OWNER_LEASE_MS', 10_000, { min: 1000, max: 600_000 }),
    browserScope: enumVar(env, 'BROWSER_SCOPE', ['instance', 'cluster'] as const, 'instance'),
  };
}
