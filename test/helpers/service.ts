import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { loadConfig } from '../../src/serviceConfig.js';
import type { Env } from '../../src/config/parse.js';
import { createLogger } from '../../src/log.js';
import { startService, type RunningService, type ServiceRoles } from '../../src/service.js';
import type { TestNats } from './natsServer.js';
import type { SourceHandler } from '../../src/processing/handler.js';
import { testEnv } from './testEnv.js';

/**
 * The service started in-process against a test nats-server, on a free port.
 * By default only the HTTP edge runs, so stored webhooks stay in the stream.
 * `env` overrides {@link testEnv}.
 */
export async function startTestService(
  nats: Pick<TestNats, 'url'>,
  env: Env = {},
  roles: ServiceRoles = { edge: true, processing: false },
  pipelines?: ReadonlyMap<string, SourceHandler>,
): Promise<RunningService> {
  const config = loadConfig(testEnv(env));
  const service = await startService(config, createLogger(config.logLevel), nats.url, roles, pipelines);
  await service.link.whenReady();
  return service;
}

/** A separate client connection for inspecting streams from a test. */
export async function inspector(nats: TestNats): Promise<{ nc: NatsConnection; jsm: JetStreamManager; count: () => Promise<number> }> {
  const nc = await connect({ servers: nats.url });
  const jsm = await jetstreamManager(nc);
  return { nc, jsm, count: async () => (await jsm.streams.info('WEBHOOKS')).state.messages };
}

/** The example `orders` body from the README. */
export const ORDER_BODY = {
  embeds: [
    {
      author: { name: 'Test Order 1' },
      description: 'Product\nTest Product 1\nPrice\n$99.99\nOrder Number\nTEST-1\nEmail\ntest1@example.com',
    },
  ],
};

/** POSTs a JSON webhook and returns status, headers and parsed body. */
export async function postWebhook(
  baseUrl: string,
  source: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; json: any }> {
  const res = await fetch(`${baseUrl}/webhooks/${source}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
}
