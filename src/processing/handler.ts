import type { DependencyName, Deps } from '../dependencies/mod.js';

/** What a handler knows about the webhook it processes. */
export interface HandlerMeta {
  source: string;
  /** Delivery id (`Webhook-Id`). */
  id: string;
  /** Stream sequence in `WEBHOOKS`. */
  seq: number;
  /** 1 on the first delivery. */
  deliveryCount: number;
  /** When the edge received it (ISO-8601), if known. */
  receivedAt: string | undefined;
  /** The sender's event type, if any. */
  eventType: string | undefined;
  /** Aborted when the service stops; pass it on to long work. */
  signal: AbortSignal;
  /**
   * Runs one named step of the pipeline (a dependency call) with `input`. In
   * a pipeline that needs two dependencies or more, a finished step's result
   * is journaled (`webhook-steps`), and a later delivery of the same webhook
   * gets it back without calling again, as long as the input is the same.
   */
  step<I, T>(name: string, input: I, run: (input: I) => Promise<T>): Promise<T>;
}

/** One result to store under a natural key in the source's KV bucket. */
export interface HandlerResult<R = unknown> {
  /** Natural key: order number, ASIN, URL… */
  key: string;
  value: R;
}

/**
 * One source's pipeline: its name, the dependencies it needs (its consumer
 * stops pulling while one of them is open), and the work itself. The payload
 * has already been validated against the source's schema.
 */
export interface SourceHandler<P = unknown, R = unknown> {
  readonly source: string;
  readonly needs: readonly DependencyName[];
  /**
   * @throws ServiceError with `retriable: false` for a permanent failure, any other error to retry.
   */
  handle(payload: P, deps: Deps, meta: HandlerMeta): Promise<HandlerResult<R>[]>;
}
