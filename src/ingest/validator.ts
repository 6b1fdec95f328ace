import { Ajv, type AnySchemaObject, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { refuse } from '../errors/ingestError.js';

// ajv-formats is CommonJS; its callable export sits on `default` under NodeNext.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** One schema violation as reported to the sender. */
export interface SchemaViolation {
  path: string;
  keyword: string;
  message: string;
  params: Record<string, unknown>;
}

const MAX_REPORTED = 20;

/** Compiled validators for every registered source. */
export class SourceValidator {
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(sources: Iterable<{ readonly name: string; readonly schema: AnySchemaObject }>) {
    const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
    addFormats(ajv);
    for (const s of sources) this.validators.set(s.name, ajv.compile(s.schema));
  }

  /**
   * Checks a parsed body against its source's schema.
   * @throws IngestError INGEST_SCHEMA_INVALID with the violations as details.
   */
  validate(source: string, payload: unknown): void {
    const validate = this.validators.get(source);
    if (!validate) throw new RangeError(`no validator for source '${source}'`);
    if (validate(payload)) return;
    throw refuse.schemaInvalid(source, (validate.errors ?? []).slice(0, MAX_REPORTED).map(toViolation));
  }
}

function toViolation(e: ErrorObject): SchemaViolation {
  return { path: e.instancePath || '/', keyword: e.keyword, message: e.message ?? 'is invalid', params: e.params };
}
