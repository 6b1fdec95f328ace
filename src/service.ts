import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServiceConfig } from './config/env.js';
import { createApp } from './http/app.js';
import { SourceValidator } from './ingest/validator.js';
import type { Log } from './log.js';
import { sources } from './sources/registry.js';
import { NatsLink } from './stream/connection.js';
import { WebhookPublisher } from './stream/publisher.js';
import { ensureWebhooksTopology } from './stream/topology.js';

/** A running service instance. */
export interface RunningService {
  /** Base URL of the HTTP edge, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  readonly server: Server;
  readonly link: NatsLink;
  /**
   * Stops accepting, lets in-flight publishes finish (up to `timeoutMs`),
   * drains NATS and closes the HTTP server.
   */
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * Starts the HTTP edge and the NATS link. The server listens at once; until
 * NATS is connected and the stream exists, webhooks get `503` and `/ready`
 * says why.
 */
export async function startService(config: ServiceConfig, log: Log, natsUrl: string): Promise<RunningService> {
  let accepting = true;
  let inFlight = 0;
  let idle: (() => void) | undefined;

  const link = NatsLink.start({
    servers: natsUrl,
    log,
    onConnect: ({ jsm }) =>
      ensureWebhooksTopology(
        jsm,
        {
          duplicateWindowMs: config.ingest.duplicateWindowMs,
          maxBytes: config.nats.streamMaxBytes,
          maxMsgs: config.nats.streamMaxMsgs,
        },
        sources.keys(),
      ),
  });
  const publisher = new WebhookPublisher(link);
  const app = createApp({
    log,
    config: config.ingest,
    sources,
    validator: new SourceValidator(sources.values()),
    publish: (w) => publisher.publish(w),
    accepting: () => accepting,
    readiness: () => link.status(),
  });
  app.middleware.unshift(async (_ctx, next) => {
    inFlight++;
    try {
      await next();
    } finally {
      if (--inFlight === 0) idle?.();
    }
  });

  const server = createServer(app.callback());
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.ingest.port, config.ingest.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? (addr.address === '::' ? '127.0.0.1' : `[${addr.address}]`) : addr.address === '0.0.0.0' ? '127.0.0.1' : addr.address;
  const url = `http://${host}:${addr.port}`;
  log.info({ url, nats: natsUrl }, 'listening');

  return {
    url,
    server,
    link,
    async stop(timeoutMs = 10_000) {
      accepting = false;
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      if (inFlight > 0) {
        await Promise.race([new Promise<void>((r) => (idle = r)), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
      }
      server.closeAllConnections();
      await closed;
      await link.drain();
    },
  };
}
