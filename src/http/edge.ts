import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServiceConfig } from '../config/env.js';
import type { SourceValidator } from '../ingest/validator.js';
import type { Log } from '../log.js';
import { sources } from '../sources/registry.js';
import type { NatsLink } from '../stream/connection.js';
import { WebhookPublisher } from '../stream/publisher.js';
import { createApp } from './app.js';

/** What the HTTP edge needs. */
export interface EdgeOptions {
  config: ServiceConfig;
  log: Log;
  link: NatsLink;
  validator: SourceValidator;
}

/** A listening HTTP edge. */
export interface Edge {
  server: Server;
  url: string;
  /** Stops accepting, waits up to `timeoutMs` for requests in flight, closes every connection. */
  stop(timeoutMs: number): Promise<void>;
}

/** Starts the Koa app on `PORT`/`HOST`. */
export async function startEdge({ config, log, link, validator }: EdgeOptions): Promise<Edge> {
  let accepting = true;
  let inFlight = 0;
  let idle: (() => void) | undefined;
  const publisher = new WebhookPublisher(link);
  const app = createApp({
    log,
    config: config.ingest,
    sources,
    validator,
    publish: (w) => publisher.publish(w),
    accepting: () => accepting,
    readiness: () => link.status(),
    link,
    adminToken: config.processing.adminToken,
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
  const wildcard = addr.address === '::' || addr.address === '0.0.0.0';
  const host = wildcard ? '127.0.0.1' : addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  log.info({ url }, 'listening');

  return {
    server,
    url,
    async stop(timeoutMs) {
      accepting = false;
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      if (inFlight > 0) {
        await Promise.race([new Promise<void>((r) => (idle = r)), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
      }
      server.closeAllConnections();
      await closed;
      publisher.close();
    },
  };
}
