import Koa from 'koa';
import Router from '@koa/router';
import type { Log } from '../log.js';
import type { OpsMetrics } from '../ops/metrics.js';
import type { OpsReader } from '../ops/opsReader.js';
import type { SseBroadcaster } from '../ops/sse.js';
import { errorHandler } from './errorHandler.js';
import { httpMetrics } from './httpMetrics.js';
import { serverSpan } from './serverSpan.js';
import { countIngest, limitIngestRate } from './ingestGuards.js';
import type { IpRateLimiter } from './ipRateLimiter.js';
import { mountHealthRoutes } from './routes/health.js';
import { mountWebhookRoute, type WebhookRouteOptions } from './routes/webhooks.js';
import type { LinkState, NatsLink } from '../bus/connection.js';
import { mountDeadLetterRoutes } from './routes/deadLetters.js';
import { mountOpenApiRoute } from './routes/openapi.js';
import { mountOpsRoutes } from './routes/ops.js';
import { mountStatusPage } from './routes/statusPage.js';
import { mountWebhookStatusRoute } from './routes/webhookStatus.js';

/** Everything the HTTP edge needs. */
export interface AppOptions extends WebhookRouteOptions {
  log: Log;
  readiness: () => LinkState | Promise<LinkState>;
  link: NatsLink;
  /** `ADMIN_TOKEN`; undefined disables the admin routes. */
  adminToken: string | undefined;
  /** Where this process records its metrics. */
  metrics: OpsMetrics;
  /** Where `/stats`, `/actors`, `/metrics` and `/events` get their data. */
  ops: OpsReader;
  /** The `/events` clients. */
  sse: SseBroadcaster;
  /** Per-client-IP limit of `POST /webhooks/*`, and how many proxies to trust for the client's address. */
  ingestLimit: { limiter: IpRateLimiter; trustedHops: number };
}

/**
 * The Koa application of the edge. Behind `trustedHops` reverse proxies
 * (`TRUST_PROXY`), each appending the address it saw to `X-Forwarded-For`,
 * `ctx.ip` is the entry that many places from the right: the first hop no
 * trusted proxy vouches for; entries a client wrote itself further left are
 * never used. With 0 it is the socket's address and the header is ignored.
 */
export function createKoa(trustedHops: number): Koa {
  return new Koa({ proxy: trustedHops > 0, maxIpsCount: trustedHops });
}

/** Builds the Koa application of the HTTP edge, its middleware and routes. */
export function createApp(options: AppOptions): Koa {
  const app = createKoa(options.ingestLimit.trustedHops);
  // Errors are logged once, by errorHandler; Koa's default handler would print them again.
  app.silent = true;
  const router = new Router();
  mountHealthRoutes(router, options.readiness);
  mountWebhookRoute(router, options, [
    countIngest(options.metrics, new Set(options.sources.keys())),
    limitIngestRate(options.ingestLimit.limiter, options.metrics),
  ]);
  mountWebhookStatusRoute(router, options.link, options.sources, options.adminToken);
  mountDeadLetterRoutes(router, options.link, options.adminToken, options.sources.keys());
  mountOpsRoutes(router, options.ops, options.sse);
  mountStatusPage(router);
  mountOpenApiRoute(router, options.sources);
  app.use(serverSpan());
  app.use(httpMetrics(options.metrics));
  app.use(errorHandler(options.log));
  app.use(router.routes());
  // Without `throw`, the router sets `Allow` on 405/501; errorHandler gives them the standard body.
  app.use(router.allowedMethods());
  return app;
}
