import type { ProcessingConfig } from '../config/processing.js';
import type { SourceHandler } from '../processing/handler.js';
import { audiobooksHandler } from './audiobooks/pipeline.js';
import { ordersHandler } from './orders/pipeline.js';
import { pagesHandler } from './pages/pipeline.js';

/** The pipeline of each source, by source name. */
export function createHandlers(config: Pick<ProcessingConfig, 'defaultKnowledgeBaseId'>): ReadonlyMap<string, SourceHandler> {
  const list = [ordersHandler, audiobooksHandler, pagesHandler(config.defaultKnowledgeBaseId)] as SourceHandler[];
  return new Map(list.map((h) => [h.source, h]));
}
