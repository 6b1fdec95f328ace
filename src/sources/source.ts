import type { AnySchemaObject } from 'ajv';

/** A webhook source: the name in `POST /webhooks/:source` and its JSON Schema. */
export interface SourceDefinition {
  /** Lower-case name used in the URL, the subject `webhooks.<name>` and the consumer name. */
  readonly name: string;
  /** One line for README and status views. */
  readonly description: string;
  /** JSON Schema (draft 2020-12 subset that ajv supports) every body must match. */
  readonly schema: AnySchemaObject;
}

/** Names a source may have: they become NATS subject tokens and consumer names. */
export const SOURCE_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;
