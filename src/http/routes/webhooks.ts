import type { Router, RouterContext } from '@koa/router';
import type { Middleware } from 'koa';
import type { IngestConfig } from '../../config/ingest.js';
import type { SourceDefinition } from '../../sources/source.js';
import { isJsonContentType, parseJsonBody, readBody } from '../../ingest/body.js';
import { bodyDeliveryId, deliveryId, eventType } from '../../ingest/deliveryId.js';
import { refuse } from '../../errors/ingestError.js';
import type { SourceValidator } from '../../ingest/validator.js';
import type { AcceptedWebhook, StoredWebhook } from '../../ingest/publisher.js';
import { addSpanEvent } from '../../tracing/tracer.js';

/** What the webhook route needs from the rest of the service. */
export interface WebhookRouteOptions {
  config: Pick<IngestConfig, 'maxBodyBytes' | 'signatures'>;
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
 * signature (the source's scheme), UTF-8/JSON and schema, then publishes and answers `202` only
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
    const fromHeaders = deliveryId(ctx.headers);

    const body = await readBody(ctx.req, options.config.maxBodyBytes);
    const signature = options.config.signatures.get(source);
    if (signature) {
      await signature.verify(ctx.headers, body);
      addSpanEvent('webhook.signature.verified');
    }
    const json = parseJsonBody(body);
    options.validator.validate(source, json);
    addSpanEvent('webhook.validated');
    // A provider's id inside the signed body beats any header id, which a replayer could change.
    const signedId = signature?.scheme.bodyDeliveryId ? bodyDeliveryId(signature.scheme.bodyDeliveryId(json)) : undefined;
    const { id, generated } = signedId ?? fromHeaders;

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
