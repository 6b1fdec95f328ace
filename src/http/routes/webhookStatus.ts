import type Router from '@koa/router';
import { Kvm, type KV } from '@nats-io/kv';
import { ErrorCodes } from '../../errors/codes.js';
import { ServiceError } from '../../errors/serviceError.js';
import { refuse } from '../../ingest/ingestError.js';
import { readStatus, STATUS_BUCKET } from '../../store/webhookStatus.js';
import type { SourceDefinition } from '../../sources/source.js';
import type { NatsLink } from '../../stream/connection.js';

/**
 * `GET /webhooks/:source/:id`: a webhook's status (`queued`, `processing`,
 * `retrying`, `done`, `dead`), deliveries, last error, and its result.
 */
export function mountWebhookStatusRoute(router: Router, link: NatsLink, sources: ReadonlyMap<string, SourceDefinition>): void {
  const buckets = new Map<string, Promise<KV>>();
  const bucket = (name: string) => {
    let b = buckets.get(name);
    if (!b) {
      b = new Kvm(link.nc!).open(name);
      b.catch(() => buckets.delete(name));
      buckets.set(name, b);
    }
    return b;
  };

  router.get('/webhooks/:source/:id', async (ctx) => {
    const { source, id } = ctx.params as { source: string; id: string };
    if (!sources.has(source)) throw refuse.unknownSource(source, [...sources.keys()]);
    if (!link.ready) throw refuse.streamUnavailable(link.status().reason);
    const status = await readStatus(await bucket(STATUS_BUCKET), source, id);
    if (!status) {
      throw new ServiceError(ErrorCodes.WEBHOOK_NOT_FOUND, `no webhook '${id}' is known for source '${source}'`, { status: 404 });
    }
    let result: unknown = undefined;
    if (status.status === 'done' && status.result) {
      const entry = await (await bucket(status.result.bucket)).get(status.result.key);
      result = entry && entry.operation === 'PUT' ? entry.json() : undefined;
    }
    ctx.body = { ...status, ...(result === undefined ? {} : { result: { ...status.result, value: result } }) };
  });
}
