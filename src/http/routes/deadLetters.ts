import type Router from '@koa/router';
import { ErrorCodes } from '../../errors/codes.js';
import { ServiceError } from '../../errors/serviceError.js';
import { refuse } from '../../errors/ingestError.js';
import { DeadLetterStore } from '../../processing/deadLetters/deadLetterStore.js';
import { KvWriter } from '../../store/kvWriter.js';
import type { NatsLink } from '../../bus/connection.js';
import { requireAdmin } from '../adminAuth.js';

function positiveInt(name: string, raw: unknown, fallback?: number, max = Number.MAX_SAFE_INTEGER): number {
  if (raw === undefined && fallback !== undefined) return fallback;
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) {
    throw new ServiceError(ErrorCodes.HTTP_BAD_PARAMETER, `${name} must be an integer from 1 to ${max}`, { status: 400 });
  }
  return Number(raw);
}

function flagParam(name: string, raw: unknown): boolean {
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true') return true;
  throw new ServiceError(ErrorCodes.HTTP_BAD_PARAMETER, `${name} must be true or false`, { status: 400 });
}

function sourceParam(raw: unknown, sources: ReadonlySet<string>): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string' || !sources.has(raw)) {
    throw new ServiceError(ErrorCodes.HTTP_BAD_PARAMETER, `source must be one of ${[...sources].join(', ')}`, { status: 400 });
  }
  return raw;
}

/**
 * The admin routes over `DEAD_LETTERS` (all need `Authorization: Bearer $ADMIN_TOKEN`):
 * list, read, replay (one or all of a source) and delete.
 */
export function mountDeadLetterRoutes(router: Router, link: NatsLink, adminToken: string | undefined, sourceNames: Iterable<string>): void {
  const sources = new Set(sourceNames);
  let store: DeadLetterStore | undefined;
  const getStore = () => {
    if (!link.ready) throw refuse.streamUnavailable(link.status().reason);
    store ??= new DeadLetterStore(link.js!, link.jsm!, new KvWriter(link.nc!));
    return store;
  };
  const admin = requireAdmin(adminToken);

  router.get('/dead-letters', admin, async (ctx) => {
    ctx.body = await getStore().list({
      source: sourceParam(ctx.query.source, sources),
      limit: positiveInt('limit', ctx.query.limit, 50, 500),
      after: ctx.query.after === undefined ? 0 : positiveInt('after', ctx.query.after),
    });
  });
  router.post('/dead-letters/replay', admin, async (ctx) => {
    ctx.body = await getStore().replayAll(sourceParam(ctx.query.source, sources), { resume: flagParam('resume', ctx.query.resume) });
  });
  router.get('/dead-letters/:seq', admin, async (ctx) => {
    ctx.body = await getStore().get(positiveInt('seq', ctx.params.seq));
  });
  router.post('/dead-letters/:seq/replay', admin, async (ctx) => {
    ctx.body = await getStore().replay(positiveInt('seq', ctx.params.seq), { resume: flagParam('resume', ctx.query.resume) });
  });
  router.delete('/dead-letters/:seq', admin, async (ctx) => {
    const seq = positiveInt('seq', ctx.params.seq);
    await getStore().delete(seq);
    ctx.body = { deleted: seq };
  });
}
