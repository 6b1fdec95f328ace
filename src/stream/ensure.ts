import { JetStreamApiError, type ConsumerConfig, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { assertReplicated, withReplicas } from './replicas.js';

const STREAM_NAME_IN_USE = 10058;

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
      await jsm.streams.info(config.name);
    } catch (e) {
      if (!(e instanceof JetStreamApiError) || e.status !== 404) throw e;
      try {
        await jsm.streams.add(config);
        return;
      } catch (addError) {
        if (!(addError instanceof JetStreamApiError) || addError.code !== STREAM_NAME_IN_USE) throw addError;
      }
    }
    const { name, ...update } = config;
    await jsm.streams.update(name, update);
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
    await jsm.consumers.info(stream, config.durable_name);
  } catch (e) {
    if (!(e instanceof JetStreamApiError) || e.status !== 404) throw e;
    await jsm.consumers.add(stream, config);
    return;
  }
  const { durable_name, deliver_policy: _ignored, ...update } = config;
  await jsm.consumers.update(stream, durable_name, update);
}
