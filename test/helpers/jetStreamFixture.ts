import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { TestNats } from './natsServer.js';

/** A test file's nats-server and one client connection to inspect it. */
export interface JetStreamFixture {
  readonly nats: TestNats;
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
}

/**
 * Starts a {@link TestNats} and connects to it in `before`, and closes and
 * disposes both in `after`. Call it inside a `describe`; read the fields
 * inside hooks and tests.
 */
export function useJetStream(): JetStreamFixture {
  let fixture: { nats: TestNats; nc: NatsConnection; jsm: JetStreamManager } | undefined;
  before(async () => {
    const nats = await TestNats.start();
    const nc = await connect({ servers: nats.url });
    fixture = { nats, nc, jsm: await jetstreamManager(nc) };
  });
  after(async () => {
    await fixture?.nc.close();
    await fixture?.nats.dispose();
    fixture = undefined;
  });
  const get = () => {
    if (!fixture) throw new Error('the nats-server runs only between before and after');
    return fixture;
  };
  return {
    get nats() {
      return get().nats;
    },
    get nc() {
      return get().nc;
    },
    get jsm() {
      return get().jsm;
    },
  };
}

/** How many times each delivery id (`Webhook-Id`) is stored in `WEBHOOKS`, read message by message. */
export async function storedWebhookIds(jsm: JetStreamManager): Promise<Map<string, number>> {
  const { state } = await jsm.streams.info('WEBHOOKS');
  const stored = new Map<string, number>();
  for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
    const m = await jsm.streams.getMessage('WEBHOOKS', { seq }).catch(() => undefined);
    const id = m?.header.get('Webhook-Id');
    if (id) stored.set(id, (stored.get(id) ?? 0) + 1);
  }
  return stored;
}
