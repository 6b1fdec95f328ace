import { JetStreamApiError, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV, type KvOptions } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { ConfigError } from '../config/parse.js';
import { isPermissionDenied, mayNotCreate } from './permissionDenied.js';
import type { ReplicaCount } from '../config/cluster.js';

// JetStream API error codes that mean "this cluster cannot keep that many copies".
const REPLICAS_NOT_SUPPORTED = 10074; // replicas > 1 not supported in non-clustered mode
const INSUFFICIENT_RESOURCES = 10023; // insufficient resources
const NO_SUITABLE_PEERS = 10005; // no suitable peers for placement
const REPLICA_ERRORS = new Set([REPLICAS_NOT_SUPPORTED, INSUFFICIENT_RESOURCES, NO_SUITABLE_PEERS]);

function refusal(replicas: number, what: string, why: string, cause?: unknown): ConfigError {
  return Object.assign(new ConfigError('NATS_REPLICAS', `is ${replicas}, which NATS cannot satisfy for ${what}: ${why}`), { cause });
}

/**
 * Runs `ensure` (creating or updating `what` with `replicas` copies) and turns
 * the server's refusal to place that many copies into a configuration error.
 * @throws ConfigError naming `NATS_REPLICAS` and what the server said; any other error as is.
 */
export async function withReplicas<T>(replicas: number, what: string, ensure: () => Promise<T>): Promise<T> {
  try {
    return await ensure();
  } catch (e) {
    if (e instanceof JetStreamApiError && REPLICA_ERRORS.has(e.code)) throw refusal(replicas, what, `the server said "${e.message}"`, e);
    throw e;
  }
}

/**
 * Checks that `stream` really is kept at `replicas` copies. A non-clustered
 * server accepts an update to more replicas without complaint but keeps one
 * copy (its stream info has no `cluster`), so this is checked after the fact.
 * @throws ConfigError naming `NATS_REPLICAS` when it is not.
 */
export async function assertReplicated(jsm: JetStreamManager, stream: string, replicas: number): Promise<void> {
  if (replicas <= 1) return;
  const info = await jsm.streams.info(stream);
  if (!info.cluster) throw refusal(replicas, `stream ${stream}`, 'the server is not clustered (its stream info has no cluster)');
}

/** The stream behind KV bucket `bucket`. */
function bucketStream(bucket: string): string {
  return `KV_${bucket}`;
}

/**
 * Creates KV bucket `name` with `replicas` copies, or binds to it and updates
 * its stream to `replicas` when it was created with another count.
 * @throws ConfigError naming `NATS_REPLICAS` when the cluster cannot keep that many copies.
 */
export async function ensureBucket(nc: NatsConnection, name: string, options: Partial<KvOptions>, replicas: ReplicaCount): Promise<KV> {
  const stream = bucketStream(name);
  return withReplicas(replicas, `KV bucket ${name}`, async () => {
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    const kv = await new Kvm(nc).create(name, { ...options, replicas }).catch(async (e: unknown) => {
      if (!isPermissionDenied(e)) throw e;
      // A user that may not create or update buckets (the edge) binds to the worker's.
      return new Kvm(nc).open(name).catch((openError: unknown) => {
        throw mayNotCreate(`KV bucket ${name}`, openError instanceof Error && /not found/i.test(openError.message) ? e : openError);
      });
    });
    const info = await jsm.streams.info(stream);
    if (info.config.num_replicas !== replicas) {
      await jsm.streams.update(stream, { num_replicas: replicas }).catch((e: unknown) => {
        if (!isPermissionDenied(e)) throw e;
      });
    }
    await assertReplicated(jsm, stream, replicas);
    return kv;
  });
}
