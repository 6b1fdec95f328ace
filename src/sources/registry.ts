import { DEPENDENCY_NAMES } from '../dependencies/mod.js';
import type { SourceHandler } from '../processing/handler.js';
import { audiobooksSource } from './audiobooks/audiobooks.js';
import { ordersSource } from './orders/orders.js';
import { pagesSource } from './pages/pages.js';
import { SOURCE_NAME_PATTERN, type PipelineSettings, type SourceDefinition } from './source.js';

/**
 * Every source the service accepts, by name: a new source is one folder
 * (schema, pipeline, definition) and one entry here.
 */
export const sources: ReadonlyMap<string, SourceDefinition> = new Map(
  ([ordersSource, audiobooksSource, pagesSource] as SourceDefinition[]).map((s) => {
    if (!SOURCE_NAME_PATTERN.test(s.name)) throw new RangeError(`source name '${s.name}' must match ${SOURCE_NAME_PATTERN}`);
    return [s.name, s];
  }),
);

/**
 * Builds every source's pipeline, checked: each handles its own source and
 * needs only dependencies the service runs.
 * @throws Error naming the source and what is wrong, so the service does not start.
 */
export function createPipelines(settings: PipelineSettings, definitions: Iterable<SourceDefinition> = sources.values()): ReadonlyMap<string, SourceHandler> {
  const known = new Set<string>(DEPENDENCY_NAMES);
  const pipelines = new Map<string, SourceHandler>();
  for (const source of definitions) {
    const pipeline = source.pipeline(settings);
    if (pipeline.source !== source.name) throw new Error(`source '${source.name}' has the pipeline of '${pipeline.source}'`);
    const unknown = pipeline.needs.filter((d) => !known.has(d));
    if (unknown.length > 0) throw new Error(`source '${source.name}' needs dependencies the service does not run: ${unknown.join(', ')}`);
    pipelines.set(source.name, pipeline);
  }
  return pipelines;
}
