import type Router from '@koa/router';
import type { OpsReader } from '../../ops/opsReader.js';
import { sseFrame, type SseBroadcaster } from '../../ops/sse.js';

/**
 * The read-only operating view, open without a token:
 * `GET /stats` (counters, backlogs, stream sizes, latencies),
 * `GET /actors` (every dependency actor's state),
 * `GET /metrics` (Prometheus text format 0.0.4) and
 * `GET /events` (Server-Sent Events: actor transitions, webhook outcomes, snapshots).
 */
export function mountOpsRoutes(router: Router, ops: OpsReader, sse: SseBroadcaster): void {
  router.get('/stats', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await ops.stats();
  });
  router.get('/actors', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await ops.actors();
  });
  router.get('/metrics', async (ctx) => {
    const text = await ops.metrics();
    ctx.set('Cache-Control', 'no-store');
    ctx.type = 'text/plain; version=0.0.4; charset=utf-8';
    ctx.body = text;
  });
  router.get('/events', async (ctx) => {
    // The current picture first, so a new client needs nothing else; it is best effort.
    const first = await Promise.all([ops.stats(), ops.actors(), ops.recent()]).then(
      ([stats, actors, recent]) => sseFrame({ type: 'snapshot', at: Date.now(), stats, actors, recent }),
      () => '',
    );
    ctx.status = 200;
    ctx.respond = false;
    sse.add(ctx.res, first);
  });
}
