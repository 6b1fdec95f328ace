import type { Middleware } from 'koa';
import type { OpsMetrics } from '../ops/metrics.js';

/**
 * Records every request's duration by method, matched route pattern (never
 * the raw path, which would make one series per webhook id) and status.
 * Streams handed to the raw response (`GET /events`) are not timed.
 */
export function httpMetrics(metrics: OpsMetrics): Middleware {
  return async function httpMetrics(ctx, next) {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      if (ctx.respond !== false) {
        const route = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        metrics.httpDuration.observe({ method: ctx.method, route: route === undefined ? 'unmatched' : String(route), status: String(ctx.status) }, seconds);
      }
    }
  };
}
