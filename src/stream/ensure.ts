import { JetStreamApiError, type ConsumerConfig, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';

const STREAM_NAME_IN_USE = 10058;

/**
 * Creates the stream or updates it to `config`; safe when several instances
 * start at once.
 * @throws Error when the existing stream cannot take the config (for example another retention).
 */
export async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
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
