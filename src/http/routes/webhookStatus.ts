import type Router from '@koa/router';
import { Kvm, type KV } from '@nats-io/kv';
import { ErrorCodes } from '../../errors/codes.js';
import { ServiceError } from '../../errors/serviceError.js';
import { refuse } from '../../errors/ingestError.js';
import { queuedStatus, readStatus, type WebhookStatus } from '../../store/webhookStatus.js';
import { findStoredWebhook } from '../../ingest/storedWebhook.js';
import type { SourceDefinition } from '../../sources/source.js';
import type { NatsLink } from '../../bus/connection.js';
import { adminCheck } from '../adminAuth.js';
import { Buckets } from '../../bus/names.js';
import { isPermissionDenied } from '../../bus/permissionDenied.js';

/**
 * What anyone may see of a status: where the webhook is and why it failed
 * (the error's code), never the error's message, which can quote the
 * payload, nor the stored result (issue 11, item 2: it is personal data).
 */
function publicView(status: WebhookStatus): Omit<WebhookStatus, 'lastError'> & { lastError?: { code: string; retriable: boolean } } {
  const { lastError, ...rest } = status;
  return lastError === undefined ? rest : { ...rest, lastError: { code: lastError.code, retriable: lastError.retriable } };
}

/**
 * `GET /webhooks/:source/:id`: a webhook's status (`queued`, `processing`,
 * `retrying`, `done`, `dead`), deliveries, timestamps, the last error's code
 * and where its result is stored. With `Authorization: Bearer <ADMIN_TOKEN>`
 * also the last error's message and the stored result's value; a wrong
 * token answers 401 `ADMIN_UNAUTHORIZED`.
 */
export function mountWebhookStatusRoute(router: Router, link: NatsLink, sources: ReadonlyMap<string, SourceDefinition>, adminToken: string | undefined): void {
  const isAdmin = adminCheck(adminToken);
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

  /**
   * What processing recorded; before it records anything, `queued` from the
   * stored message. Read again when the message is gone: processed between
   * the two reads.
   */
  const statusOf = async (kv: KV, source: string, id: string): Promise<WebhookStatus | undefined> => {
    const recorded = await readStatus(kv, source, id);
    if (recorded) return recorded;
    const stored = await findStoredWebhook(link.js!, link.jsm!, source, id);
    return stored ? queuedStatus(source, stored) : readStatus(kv, source, id);
  };

  router.get('/webhooks/:source/:id', async (ctx) => {
    const { source, id } = ctx.params as { source: string; id: string };
    // Checked first: a wrong token is refused whatever the webhook.
    const admin = isAdmin(ctx);
    // The answer depends on the token: no shared cache may hand the admin's answer to anyone else.
    ctx.set('Vary', 'Authorization');
    if (admin) ctx.set('Cache-Control', 'no-store');
    if (!sources.has(source)) throw refuse.unknownSource(source, [...sources.keys()]);
    if (!link.ready) throw refuse.streamUnavailable(link.status().reason);
    const status = await statusOf(await bucket(Buckets.status), source, id);
    if (!status) {
      throw new ServiceError(ErrorCodes.WEBHOOK_NOT_FOUND, `no webhook '${id}' is known for source '${source}'`, { status: 404 });
    }
    if (!admin) {
      ctx.body = publicView(status);
      return;
    }
    let result: unknown = undefined;
    if (status.status === 'done' && status.result) {
      const { bucket: name, key } = status.result;
      try {
        const entry = await (await bucket(name)).get(key);
        result = entry && entry.operation === 'PUT' ? entry.json() : undefined;
      } catch (e) {
        // The edge's NATS user may not read results (least privilege): the pointer stays, the value is left out.
        if (!isPermissionDenied(e)) throw e;
      }
    }
    ctx.body = { ...status, ...(result === undefined ? {} : { result: { ...status.result, value: result } }) };
  });
}
