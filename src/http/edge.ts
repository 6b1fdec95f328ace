import cluster from 'node:cluster';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IngestConfig } from '../config/ingest.js';
import type { ProcessingConfig } from '../config/processing.js';
import type { ProtectionConfig } from '../config/protection.js';
import type { SourceValidator } from '../ingest/validator.js';
import type { Log } from '../log.js';
import type { OpsMetrics } from '../ops/metrics.js';
import type { OpsReader } from '../ops/opsReader.js';
import { SseBroadcaster } from '../ops/sse.js';
import { sources } from '../sources/registry.js';
import type { NatsLink } from '../bus/connection.js';
import { warnIfBodyLimitAbovePayload } from '../bus/payloadLimit.js';
import { WebhookPublisher } from '../ingest/publisher.js';
import { createApp } from './app.js';
import { guardConnections } from './connectionGuard.js';
import { drainServer } from './drain.js';
import { IpRateLimiter } from './ipRateLimiter.js';
import { listenOn } from './listen.js';

/** What the HTTP edge needs. */
export interface EdgeOptions {
  /** The edge's settings, and the admin token of the admin routes. */
  config: { ingest: IngestConfig; protection: ProtectionConfig; processing: Pick<ProcessingConfig, 'adminToken'> };
  log: Log;
  link: NatsLink;
  validator: SourceValidator;
  /** Where this process records its metrics. */
  metrics: OpsMetrics;
  /** Where the operating view's routes get their data. */
  ops: OpsReader;
}

/** A listening HTTP edge. */
export interface Edge {
  server: Server;
  url: string;
  /**
   * Stops accepting (webhooks get `503 SERVICE_SHUTTING_DOWN`, every answer
   * `Connection: close`), drains kept-alive connections without resetting
   * them, waits up to `timeoutMs` for requests in flight, closes every connection.
   */
  stop: (timeoutMs: number) => Promise<void>;
}

/**
 * Starts the Koa app on `PORT`/`HOST` behind the ingest protection: the
 * connection cap, header/request timeouts and the per-IP limit (each edge
 * process of a cluster allows its share of `INGEST_RATE_PER_IP`).
 */
export async function startEdge({ config, log, link, validator, metrics, ops }: EdgeOptions): Promise<Edge> {
  let accepting = true;
  let inFlight = 0;
  let idle: (() => void) | undefined;
  const publisher = new WebhookPublisher(link, { deadlineMs: config.ingest.publishDeadlineMs });
  const { protection } = config;
  const share = cluster.isWorker ? config.ingest.edgeProcesses : 1;
  const limiter = new IpRateLimiter({ rate: protection.ratePerIp / share, burst: Math.max(1, protection.burstPerIp / share) });
  const sse = new SseBroadcaster(ops, { onDropped: (n) => metrics.sseDropped.inc(n), onClients: (n) => metrics.sseClients.set(n) });
  const app = createApp({
    log,
    config: config.ingest,
    sources,
    validator,
    publish: (w) => publisher.publish(w),
    accepting: () => accepting,
    readiness: () => (accepting ? link.checkReady() : Promise.resolve({ ready: false, reason: 'shutting down' })),
    link,
    adminToken: config.processing.adminToken,
    metrics,
    ops,
    sse,
    ingestLimit: { limiter, trustedHops: protection.trustProxyHops },
  });
  app.middleware.unshift(async (ctx, next) => {
    inFlight++;
    try {
      await next();
    } finally {
      // While draining, every answer closes its connection, so no client sends on it again.
      if (!accepting && !ctx.headerSent) ctx.set('Connection', 'close');
      if (--inFlight === 0) idle?.();
    }
  });

  // Koa's handler answers every request itself, errors included: its promise never rejects.
  const handle = app.callback();
  const server = createServer(
    {
      headersTimeout: protection.headersTimeoutMs,
      requestTimeout: protection.requestTimeoutMs,
      // How often Node looks for requests past those timeouts.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(protection.headersTimeoutMs / 4))),
    },
    (req, res) => void handle(req, res),
  );
  // Longer than the usual load balancer idle timeout (60 s), so the balancer closes first.
  server.keepAliveTimeout = 65_000;
  guardConnections(server, { maxConnections: protection.maxConnections, metrics, log });
  await listenOn(server, config.ingest.port, config.ingest.host);
  void link.whenReady().then(() => warnIfBodyLimitAbovePayload(link.nc?.info?.max_payload, config.ingest.maxBodyBytes, log));
  const addr = server.address() as AddressInfo;
  const wildcard = addr.address === '::' || addr.address === '0.0.0.0';
  const host = wildcard ? '127.0.0.1' : addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  log.info({ url }, 'listening');

  return {
    server,
    url,
    stop: async (timeoutMs) => {
      accepting = false;
      sse.close();
      await drainServer(server, {
        timeoutMs,
        requestsDone: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((r) => (idle = r))),
      });
      publisher.close();
    },
  };
}
