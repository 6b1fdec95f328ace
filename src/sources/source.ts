import type { AnySchemaObject } from 'ajv';
import type { SourceHandler } from '../processing/handler.js';

/** What a pipeline may be built with (settings of the processing side). */
export interface PipelineSettings {
  /** `BOTPRESS_KB_ID`: the knowledge base of `pages` webhooks that name none. */
  defaultKnowledgeBaseId: string | undefined;
}

/**
 * A webhook source: the name in `POST /webhooks/:source`, the JSON Schema
 * every body must match, and the pipeline that processes what was stored.
 * The pipeline's payload type is derived from the schema, so the two cannot
 * disagree.
 */
export interface SourceDefinition<P = unknown> {
  /** Lower-case name used in the URL, the subject `webhooks.<name>` and the consumer name. */
  readonly name: string;
  /** One line that describes the source (openapi.json, the status views). */
  readonly description: string;
  /** JSON Schema (draft 2020-12 subset that ajv supports) every body must match. */
  readonly schema: AnySchemaObject;
  /**
   * Webhooks processed at once unless `<SOURCE>_CONCURRENCY` says otherwise
   * (the consumer pulls that many, and its acks and writes share socket writes).
   * @default 10
   */
  readonly defaultConcurrency?: number;
  /** Builds the source's pipeline (its `needs` name the dependencies it calls). */
  pipeline(settings: PipelineSettings): SourceHandler<P>;
}

/** Names a source may have: they become NATS subject tokens and consumer names. */
export const SOURCE_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;

/** Defines a source (typed: its pipeline takes what its schema admits). */
export function defineSource<P>(source: SourceDefinition<P>): SourceDefinition<P> {
  return source;
}
