import type Router from '@koa/router';
import type { LinkState } from '../../bus/connection.js';

/**
 * `GET /health`: 200 while the process runs.
 * `GET /ready`: 200 when NATS is connected, the streams exist and `WEBHOOKS`
 * has a leader, else 503 with the reason.
 */
export function mountHealthRoutes(router: Router, readiness: () => LinkState | Promise<LinkState>): void {
  router.get('/health', (ctx) => {
    ctx.body = { status: 'ok', uptimeS: Math.round(process.uptime()) };
  });
  router.get('/ready', async (ctx) => {
    const state = await readiness();
    ctx.status = state.ready ? 200 : 503;
    if (!state.ready) ctx.set('Retry-After', '2');
    ctx.body = { ready: state.ready, reason: state.reason };
  });
}
