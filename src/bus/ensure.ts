import { JetStreamApiError, type ConsumerConfig, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { assertReplicated, withReplicas } from './replicas.js';
import { isPermissionDenied, mayNotCreate } from './permissionDenied.js';

const STREAM_NAME_IN_USE = 10058;
/** Also what a create racing another instance's create of the same stream may get (the subjects are taken first). */
const SUBJECTS_OVERLAP = 10065;

/** Whether a failed create means the stream `name` exists now (another instance created it a moment earlier). */
async function createdMeanwhile(jsm: JetStreamManager, name: string, e: unknown): Promise<boolean> {
  if (!(e instanceof JetStreamApiError)) return false;
  if (e.code === STREAM_NAME_IN_USE) return true;
  if (e.code !== SUBJECTS_OVERLAP) return false;
  // Overlapping subjects are a real conflict unless they belong to the stream itself.
  return jsm.streams.info(name).then(
    () => true,
    () => false,
  );
}

/** Whether every setting in `wanted` is already `actual`'s (then nothing needs updating, and no update permission either). */
function alreadySet(wanted: object, actual: object): boolean {
  const have = actual as Record<string, unknown>;
  return Object.entries(wanted).every(([k, v]) => v === undefined || JSON.stringify(v) === JSON.stringify(have[k]));
}

/**
 * Creates the stream or updates it to `config` (including its replica
 * count); safe when several instances start at once.
 * @throws ConfigError naming `NATS_REPLICAS` when the cluster cannot keep `num_replicas` copies.
 * @throws Error when the existing stream cannot take the config (for example another retention).
 */
export async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  const replicas = config.num_replicas ?? 1;
  await withReplicas(replicas, `stream ${config.name}`, async () => {
    try {
      const { config: actual } = await jsm.streams.info(config.name);
      if (alreadySet(config, actual)) return;
    } catch (e) {
      if (!(e instanceof JetStreamApiError) || e.status !== 404) throw e;
      try {
        await jsm.streams.add(config);
        return;
      } catch (addError) {
        if (isPermissionDenied(addError)) throw mayNotCreate(`stream ${config.name}`, addError);
        if (!(await createdMeanwhile(jsm, config.name, addError))) throw addError;
      }
    }
    const { name, ...update } = config;
    // A user without the right to update (the edge's) takes the stream as the worker set it.
    await jsm.streams.update(name, update).catch((e: unknown) => {
      if (!isPermissionDenied(e)) throw e;
    });
  });
  await assertReplicated(jsm, config.name, replicas);
}

/** Creates or updates a durable consumer on `stream`. */
export async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  config: Partial<ConsumerConfig> & { durable_name: string },
): Promise<void> {
  try {
    const { config: actual } = await jsm.consumers.info(stream, config.durable_name);
    const { deliver_policy: _fixed, ...settings } = config;
    if (alreadySet(settings, actual)) return;
  } catch (e) {
    if (!(e instanceof JetStreamApiError) || e.status !== 404) throw e;
    await jsm.consumers.add(stream, config).catch((addError: unknown) => {
      throw isPermissionDenied(addError) ? mayNotCreate(`consumer ${config.durable_name} on ${stream}`, addError) : addError;
    });
    return;
  }
  const { durable_name, deliver_policy: _ignored, ...update } = config;
  await jsm.consumers.update(stream, durable_name, update).catch((e: unknown) => {
    if (!isPermissionDenied(e)) throw e;
  });
}
