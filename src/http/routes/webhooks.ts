import type { Router, RouterContext } from '@koa/router';
import type { Middleware } from 'koa';
import type { IngestConfig } from '../../config/env.js';
import type { SourceDefinition } from '../../sources/source.js';
import { isJsonContentType, parseJsonBody, readBody } from '../../ingest/body.js';
import { deliveryId, eventType } from '../../ingest/deliveryId.js';
import { refuse } from '../../ingest/ingestError.js';
import { verifySignature } from '../../ingest/signature.js';
import type { SourceValidator } from '../../ingest/validator.js';
import type { AcceptedWebhook, StoredWebhook } from '../../ingest/publisher.js';

/** What the webhook route needs from the rest of the service. */
export interface WebhookRouteOptions {
  config: Pick<IngestConfig, 'maxBodyBytes' | 'secrets'>;
  sources: ReadonlyMap<string, SourceDefinition>;
  validator: SourceValidator;
  publish: (w: AcceptedWebhook) => Promise<StoredWebhook>;
  /** Whether the service still accepts webhooks (false while shutting down). */
  accepting: () => boolean;
}

/** The `202` body. */
export interface AcceptedBody {
  id: string;
  source: string;
  seq: number;
  duplicate: boolean;
}

/**
 * `POST /webhooks/:source`: checks, in order, source, content type, size,
 * signature, UTF-8/JSON and schema, then publishes and answers `202` only
 * after JetStream's ack. `guards` run first (counting, per-IP limit).
 */
export function mountWebhookRoute(router: Router, options: WebhookRouteOptions, guards: Middleware[] = []): void {
  router.post('/webhooks/:source', ...guards, async (ctx: RouterContext) => {
    const receivedAt = new Date();
    const source = ctx.params.source as string;
    if (!options.accepting()) throw refuse.shuttingDown();
    if (!options.sources.has(source)) throw refuse.unknownSource(source, [...options.sources.keys()]);
    const contentType = ctx.get('content-type');
    if (!isJsonContentType(contentType)) throw refuse.unsupportedMediaType(contentType || undefined);
    const { id, generated } = deliveryId(ctx.headers);

    const body = await readBody(ctx.req, options.config.maxBodyBytes);
    const secrets = options.config.secrets.get(source);
    if (secrets) verifySignature(source, ctx.headers, body, secrets);
    options.validator.validate(source, parseJsonBody(body));

    const stored = await options.publish({
      source,
      id,
      idGenerated: generated,
      body,
      contentType,
      receivedAt,
      eventType: eventType(ctx.headers),
    });
    ctx.status = 202;
    ctx.set('Location', `/webhooks/${source}/${encodeURIComponent(id)}`);
    ctx.body = { id, source, seq: stored.seq, duplicate: stored.duplicate } satisfies AcceptedBody;
  });
}
