import type { Middleware } from 'koa';
import { isServiceError } from '../errors/serviceError.js';
import { ErrorCodes } from '../errors/codes.js';
import { refuse } from '../errors/ingestError.js';
import type { OpsMetrics } from '../ops/metrics.js';
import type { IpRateLimiter } from './ipRateLimiter.js';
import type { AcceptedBody } from './routes/webhooks.js';

/**
 * Counts every `POST /webhooks/:source` by how it ended: published,
 * duplicate, or refused with its error code. Unknown sources are counted
 * under `_unknown`, so a scan of made-up names cannot grow the series.
 */
export function countIngest(metrics: OpsMetrics, known: ReadonlySet<string>): Middleware {
  return async function countIngest(ctx, next) {
    // Set by the router: this guard runs on the webhook route only.
    const { params } = ctx as { params?: Record<string, string> };
    const raw = params?.source;
    const source = raw !== undefined && known.has(raw) ? raw : '_unknown';
    metrics.webhooksReceived.inc({ source });
    try {
      await next();
    } catch (e) {
      const code = isServiceError(e) ? e.code : ctx.req.destroyed ? ErrorCodes.HTTP_REQUEST_ABORTED : ErrorCodes.INTERNAL_ERROR;
      metrics.webhooksRefused.inc({ source, code });
      throw e;
    }
    if ((ctx.body as AcceptedBody | undefined)?.duplicate) metrics.webhooksDuplicate.inc({ source });
    else metrics.webhooksPublished.inc({ source });
  };
}

/**
 * The client's address as one string: `::ffff:10.0.0.1` (an IPv4 client of
 * a dual-stack socket) is `10.0.0.1`.
 */
export function clientAddress(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

/**
 * The per-client-IP token bucket in front of the ingest route (the client is
 * Koa's `ctx.ip`, which honours `TRUST_PROXY` hops): over it, the
 * request is refused `429 INGEST_RATE_LIMITED` with `Retry-After` before its
 * body is read.
 * @throws IngestError INGEST_RATE_LIMITED
 */
export function limitIngestRate(limiter: IpRateLimiter, metrics: OpsMetrics): Middleware {
  return async function limitIngestRate(ctx, next) {
    if (limiter.enabled) {
      const decision = limiter.take(clientAddress(ctx.ip), Date.now());
      metrics.ingestRateLimitClients.set(limiter.size);
      if (!decision.allowed) {
        metrics.ingestRateLimited.inc();
        throw refuse.rateLimited(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)));
      }
    }
    await next();
  };
}
