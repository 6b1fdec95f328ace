/**
 * OpenAI's Chat Completions wire format as the OpenAI actor relies on it
 * (https://platform.openai.com/docs/api-reference/chat/object): the JSON
 * Schema ajv checks every completion against, and the checks that turn a
 * completion into the extracted value. The SDK types the answer but does not
 * check it, so a proxy or a model bug must not slip through untyped.
 */
import { BadResponseError, RejectedError } from '../runtime/errors.js';
import { responseValidator, type ResponseValidator } from '../http/responseValidator.js';

/** What `extract` asks the model for: a named JSON Schema (OpenAI's `json_schema` response format). */
export interface ExtractSchema {
  /** `[A-Za-z0-9_-]{1,64}`, OpenAI's rule for response-format names. */
  readonly name: string;
  /** A JSON Schema whose root is an object (strict Structured Outputs' subset). */
  readonly schema: Readonly<Record<string, unknown>>;
}

/** Token counts OpenAI reports for one completion. */
export interface CompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** The part of a `chat.completion` object the actor reads. */
export interface CheckedCompletion {
  id: string;
  model: string;
  choices: {
    index: number;
    finish_reason: string | null;
    message: { role: string; content: string | null; refusal?: string | null };
  }[];
  usage?: CompletionUsage;
}

const count = { type: 'integer', minimum: 0 } as const;

/** Schema of {@link CheckedCompletion}. */
export const completionSchema = {
  type: 'object',
  required: ['id', 'object', 'model', 'choices'],
  properties: {
    id: { type: 'string' },
    object: { const: 'chat.completion' },
    model: { type: 'string' },
    choices: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['index', 'message', 'finish_reason'],
        properties: {
          index: { type: 'integer' },
          finish_reason: { type: ['string', 'null'] },
          message: {
            type: 'object',
            required: ['role', 'content'],
            properties: { role: { type: 'string' }, content: { type: ['string', 'null'] }, refusal: { type: ['string', 'null'] } },
          },
        },
      },
    },
    usage: {
      type: 'object',
      required: ['prompt_tokens', 'completion_tokens', 'total_tokens'],
      properties: { prompt_tokens: count, completion_tokens: count, total_tokens: count },
    },
  },
} as const;

const NAME_RULE = /^[A-Za-z0-9_-]{1,64}$/;
const validators = new WeakMap<object, ResponseValidator<unknown>>();

/**
 * Checks an extraction schema and compiles it once per schema object (pass
 * the same object each time: ajv keeps every schema it compiled).
 * @throws RejectedError (`DEP_REJECTED`) when the name or the schema is unusable.
 */
export function answerValidator(dependency: string, schema: ExtractSchema): ResponseValidator<unknown> {
  if (typeof schema?.name !== 'string' || !NAME_RULE.test(schema.name)) {
    throw new RejectedError(dependency, `schema name must match ${NAME_RULE.source}, got ${JSON.stringify(schema?.name)}`);
  }
  const body = schema.schema;
  if (typeof body !== 'object' || body === null || Array.isArray(body) || body.type !== 'object') {
    throw new RejectedError(dependency, `schema '${schema.name}' must be a JSON Schema of type 'object'`);
  }
  const known = validators.get(body);
  if (known) return known;
  try {
    const validate = responseValidator<unknown>(dependency, `answer '${schema.name}'`, body);
    validators.set(body, validate);
    return validate;
  } catch (e) {
    throw new RejectedError(dependency, `schema '${schema.name}' does not compile: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Reads the extracted value out of a checked completion: the first choice's
 * content, parsed as JSON and validated against the requested schema.
 * @throws BadResponseError (`DEP_BAD_RESPONSE`, permanent) when the model
 * refused, was cut off, or answered something that is not valid JSON for the schema.
 */
export function answerOf(dependency: string, completion: CheckedCompletion, validate: ResponseValidator<unknown>): unknown {
  const choice = completion.choices[0]!;
  const { refusal, content } = choice.message;
  if (refusal) throw new BadResponseError(dependency, 'the model refused to answer', { refusal });
  if (choice.finish_reason !== 'stop') {
    throw new BadResponseError(dependency, `the answer is incomplete (finish_reason ${choice.finish_reason})`, { finishReason: choice.finish_reason });
  }
  if (content === null || content === '') throw new BadResponseError(dependency, 'the answer has no content');
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch {
    throw new BadResponseError(dependency, 'the answer is not JSON');
  }
  return validate(value);
}

