import type { SourceHandler } from '../processing/handler.js';
import { ordersHandler } from './orders.js';

/** The pipeline of each source, by source name. */
export const handlers: ReadonlyMap<string, SourceHandler> = new Map(
  ([ordersHandler] as SourceHandler[]).map((h) => [h.source, h]),
);
