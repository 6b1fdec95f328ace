import Koa from 'koa';
import Router from '@koa/router';
import type { Log } from '../log.js';
import { errorHandler } from './errorHandler.js';
import { mountHealthRoutes } from './routes/health.js';
import { mountWebhookRoute, type WebhookRouteDeps } from './routes/webhooks.js';
import type { LinkState, NatsLink } from '../stream/connection.js';
import { mountDeadLetterRoutes } from './routes/deadLetters.js';
import { mountWebhookStatusRoute } from './routes/webhookStatus.js';

/** Everything the HTTP edge needs. */
export interface AppDeps extends WebhookRouteDeps {
  log: Log;
  readiness: () => LinkState;
  link: NatsLink;
  /** `ADMIN_TOKEN`; undefined disables the admin routes. */
  adminToken: string | undefined;
}

/** Builds the Koa application of the HTTP edge. */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa({ proxy: false });
  // Errors are logged once, by errorHandler; Koa's default handler would print them again.
  app.silent = true;
  const router = new Router();
  mountHealthRoutes(router, deps.readiness);
  mountWebhookRoute(router, deps);
  mountWebhookStatusRoute(router, deps.link, deps.sources);
  mountDeadLetterRoutes(router, deps.link, deps.adminToken, deps.sources.keys());
  app.use(errorHandler(deps.log));
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));
  return app;
}
