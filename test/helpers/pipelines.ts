import type { SourceHandler } from '../../src/processing/handler.js';
import { unprocessable } from '../../src/processing/processingError.js';
import { ServiceError } from '../../src/errors/serviceError.js';

/** A controllable `orders` pipeline for processing tests. */
export class ScriptedOrders implements SourceHandler<{ embeds: { description?: string }[] }, { n: string }> {
  readonly source = 'orders';
  readonly needs = [] as const;
  /** How each delivery of a webhook id ends: 'ok', 'retriable', 'permanent', or a promise to wait on first. */
  failuresLeft = new Map<string, number>();
  alwaysFail = new Set<string>();
  permanent = new Set<string>();
  gates = new Map<string, Promise<void>>();
  calls: { id: string; delivery: number }[] = [];

  async handle(payload: { embeds: { description?: string }[] }, _deps: unknown, meta: { id: string; deliveryCount: number }) {
    this.calls.push({ id: meta.id, delivery: meta.deliveryCount });
    await this.gates.get(meta.id);
    if (this.permanent.has(meta.id)) throw unprocessable(`scripted permanent failure of ${meta.id}`);
    if (this.alwaysFail.has(meta.id)) throw new ServiceError('TEST_DOWNSTREAM_DOWN', `scripted failure of ${meta.id}`, { retriable: true });
    const left = this.failuresLeft.get(meta.id) ?? 0;
    if (left > 0) {
      this.failuresLeft.set(meta.id, left - 1);
      throw new ServiceError('TEST_DOWNSTREAM_DOWN', `scripted failure of ${meta.id}`, { retriable: true });
    }
    return [{ key: meta.id, value: { n: payload.embeds[0]?.description ?? '' } }];
  }
}

/** A pipelines map with only `orders` handled by `h`. */
export function only(h: SourceHandler): ReadonlyMap<string, SourceHandler> {
  return new Map([[h.source, h]]);
}

/** A pipeline for `source` that looks one book up in Audnex per webhook, so Audnex's breaker gates it. */
export function audnexLookups(source: string, asin: string): SourceHandler {
  return {
    source,
    needs: ['audnex'],
    async handle(_payload, deps, meta) {
      const book = await deps.audnex.getBook(asin);
      return [{ key: meta.id, value: { found: book.found } }];
    },
  };
}
