import { Ajv, type AnySchema } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { BadResponseError } from '../runtime/errors.js';

// ajv-formats is CommonJS; its callable export sits on `default` under NodeNext.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const ajv = addFormats(new Ajv({ allErrors: true, strict: false }));

/** Checks a dependency's answer and returns it typed. */
export type ResponseValidator<T> = (body: unknown) => T;

/**
 * Compiles `schema` once and returns a validator for answers of `dependency`.
 * The validator throws BadResponseError (with ajv's errors as details) for a
 * body that breaks the contract.
 */
export function responseValidator<T>(dependency: string, what: string, schema: AnySchema): ResponseValidator<T> {
  const validate = ajv.compile<T>(schema);
  return (body) => {
    if (validate(body)) return body as T;
    const details = (validate.errors ?? []).slice(0, 10).map((e) => ({ path: e.instancePath, message: e.message }));
    throw new BadResponseError(dependency, `${what} does not match its schema`, details);
  };
}
