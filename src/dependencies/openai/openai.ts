import { OpenAI } from 'openai';
import type { OpenAISettings } from './settings.js';
import type { DependencyCaller } from '../runtime/caller.js';
import { defineDependency, isRequestObject, type DependencyDefinition } from '../runtime/definition.js';
import { RejectedError } from '../runtime/errors.js';
import { responseValidator } from '../http/responseValidator.js';
import { openaiError } from './errors.js';
import { answerOf, answerValidator, completionSchema, type CheckedCompletion, type ExtractSchema } from './schemas.js';

export type { ExtractSchema } from './schemas.js';

const NAME = 'openai';
/** The extra token bucket that holds `OPENAI_TOKENS_PER_MINUTE`. */
const TOKENS_BUCKET = 'tokens';


/** One chat message sent to OpenAI. */
export interface ChatMessage {
  readonly role: 'system' | 'user';
  readonly content: string;
}

/** One extraction, as it travels through the actor's mailbox. */
export interface OpenAIRequest {
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  readonly schema: ExtractSchema;
  /** `max_completion_tokens`. */
  readonly maxOutputTokens: number;
}

/** Options of {@link OpenAIHandle.extract}. */
export interface OpenAIExtractOptions {
  /**
   * The system message.
   * @default DEFAULT_INSTRUCTIONS
   */
  instructions?: string;
  /**
   * The chat model.
   * @default settings.model (`OPENAI_MODEL`)
   */
  model?: string;
  /**
   * Most tokens the answer may take (`max_completion_tokens`); reserved from
   * the token budget until the call's real usage is known.
   * @default 1024
   */
  maxOutputTokens?: number;
}

/** What handlers use: `deps.openai.extract(text, schema)`. */
export interface OpenAIHandle {
  /**
   * Asks the model to extract data from `text` as JSON matching `schema`
   * (Structured Outputs, strict), and returns it validated against `schema`.
   * @throws DependencyError: `DEP_REJECTED` (nothing is sent) for empty text, an
   * unusable schema or option, a missing `OPENAI_API_KEY`, or a request larger
   * than the whole token budget; `DEP_BAD_RESPONSE` when the model refuses, is
   * cut off or answers outside the schema; or the call's failure.
   */
  extract<T>(text: string, schema: ExtractSchema, options?: OpenAIExtractOptions): Promise<T>;
}

/** Options of {@link openaiDependency} beyond the environment. */
export interface OpenAIDependencyOptions {
  /**
   * The window `tokensPerMinute` is counted over (the bucket refills
   * `tokensPerMinute` per window and holds at most that many).
   * @default 60000
   */
  tokenWindowMs?: number;
}

/** The system message unless the caller gives one. */
export const DEFAULT_INSTRUCTIONS = 'Extract the requested information from the user message. Answer only with JSON that matches the response schema.';

const DEFAULT_MAX_OUTPUT_TOKENS = 1024;
const CHARS_PER_TOKEN = 3;
const TOKENS_PER_MESSAGE = 4;
const REPLY_PRIMING_TOKENS = 3;

/**
 * Estimates a request's prompt tokens without a tokenizer, on the high side:
 * one token per 3 characters of the messages and of the schema (OpenAI counts
 * the response schema as prompt; English prose averages about 4 characters a
 * token, JSON and other languages fewer), plus 4 per message for its role and
 * delimiters and 3 that prime the reply. The response's `usage` replaces the
 * estimate afterwards; erring high also covers the request's travel time, during
 * which this bucket refills while OpenAI's has not yet counted the request.
 */
export function estimatePromptTokens(messages: readonly ChatMessage[], schema: ExtractSchema): number {
  const chars = messages.reduce((n, m) => n + m.content.length, 0) + JSON.stringify(schema.schema).length;
  return Math.ceil(chars / CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE * messages.length + REPLY_PRIMING_TOKENS;
}

const validateCompletion = responseValidator<CheckedCompletion>(NAME, 'chat completion', completionSchema);

function nonEmpty(what: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw new RejectedError(NAME, `${what} must be a non-empty string`);
  return value;
}

function tokenCount(value: unknown): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1) throw new RejectedError(NAME, `maxOutputTokens must be an integer >= 1, got ${String(value)}`);
  return value as number;
}

// A response schema is compiled where the call runs; one this large is no extraction schema.
const MAX_SCHEMA_CHARS = 64 * 1024;

function checkMessages(value: unknown): ChatMessage[] {
  if (!Array.isArray(value) || value.length < 1 || value.length > 2) throw new RejectedError(NAME, 'messages must be a system and a user message');
  return value.map((m: unknown, i) => {
    if (!isRequestObject(m) || (m.role !== 'system' && m.role !== 'user') || Object.keys(m).length !== 2) {
      throw new RejectedError(NAME, `message ${i} must be { role: 'system' | 'user', content }`);
    }
    return { role: m.role, content: nonEmpty(`the content of message ${i}`, m.content) };
  });
}

/** The tokens a request reserves from the budget: its estimated prompt plus its output cap. */
function reservedTokens(request: OpenAIRequest): number {
  return estimatePromptTokens(request.messages, request.schema) + request.maxOutputTokens;
}

/**
 * The one set of rules for an extraction, applied by the handle and again by
 * the owner to a forwarded one (which also recompiles its schema there).
 * @throws RejectedError naming what is wrong, or when the request needs more than the whole budget.
 */
function requestParser(tokensPerMinute: number): (r: unknown) => OpenAIRequest {
  return (r) => {
    if (!isRequestObject(r)) throw new RejectedError(NAME, 'the request must be an object');
    const extra = Object.keys(r).filter((k) => !['model', 'messages', 'schema', 'maxOutputTokens'].includes(k));
    if (extra.length > 0) throw new RejectedError(NAME, `unknown fields: ${extra.join(', ')}`);
    if (!isRequestObject(r.schema) || JSON.stringify(r.schema).length > MAX_SCHEMA_CHARS) throw new RejectedError(NAME, `schema must be an object of at most ${MAX_SCHEMA_CHARS} characters`);
    const schema = r.schema as unknown as ExtractSchema;
    answerValidator(NAME, schema);
    const request: OpenAIRequest = { model: nonEmpty('model', r.model), messages: checkMessages(r.messages), schema, maxOutputTokens: tokenCount(r.maxOutputTokens) };
    const tokens = reservedTokens(request);
    if (tokens > tokensPerMinute) throw new RejectedError(NAME, `needs about ${tokens} tokens, more than the whole budget of ${tokensPerMinute}`);
    return request;
  };
}

/**
 * Defines the OpenAI actor: one SDK client (`baseURL` = `settings.url`, SDK
 * retries off, the call's signal passed on) and two budgets, `OPENAI_RATE`
 * for requests and `OPENAI_TOKENS_PER_MINUTE` for tokens. A call reserves its
 * estimated prompt tokens plus `maxOutputTokens` (OpenAI admits a request
 * against its limit the same way) and, once answered, is charged its real
 * `usage.total_tokens` instead, so the bucket tracks what OpenAI counts.
 */
export function openaiDependency(settings: OpenAISettings, options: OpenAIDependencyOptions = {}): DependencyDefinition<OpenAIHandle> {
  const { url, apiKey, tokensPerMinute, model, ...limits } = settings;
  const windowMs = options.tokenWindowMs ?? 60_000;
  const client = apiKey === undefined ? undefined : new OpenAI({ apiKey, baseURL: url, maxRetries: 0 });
  const parseRequest = requestParser(tokensPerMinute);
  return defineDependency({
    options: { ...limits, extraLimits: { [TOKENS_BUCKET]: { rate: (tokensPerMinute * 1000) / windowMs, burst: tokensPerMinute } } },
    parseRequest,
    cost: (request) => ({ [TOKENS_BUCKET]: reservedTokens(request) }),
    parseResult: (request, value) => answerValidator(NAME, request.schema)(value),
    perform: async (request: OpenAIRequest, { signal, dependency, charge, cost }) => {
      if (!client) throw new RejectedError(dependency, 'OPENAI_API_KEY is not set');
      const { schema } = request;
      let body: unknown;
      try {
        body = await client.chat.completions.create(
          {
            model: request.model,
            messages: [...request.messages],
            response_format: { type: 'json_schema', json_schema: { name: schema.name, schema: schema.schema, strict: true } },
            max_completion_tokens: request.maxOutputTokens,
          },
          { signal },
        );
      } catch (e) {
        throw openaiError(dependency, e, limits.timeoutMs);
      }
      const completion = validateCompletion(body);
      if (completion.usage) charge(TOKENS_BUCKET, completion.usage.total_tokens - (cost[TOKENS_BUCKET] ?? 0));
      return answerOf(dependency, completion, answerValidator(dependency, schema));
    },
    handle: (caller: DependencyCaller<OpenAIRequest>): OpenAIHandle => ({
      async extract<T>(text: string, schema: ExtractSchema, opts: OpenAIExtractOptions = {}) {
        if (!client) throw new RejectedError(NAME, 'OPENAI_API_KEY is not set');
        const messages: ChatMessage[] = [
          { role: 'system', content: opts.instructions ?? DEFAULT_INSTRUCTIONS },
          { role: 'user', content: text },
        ];
        return caller.call<T>(parseRequest({ model: opts.model ?? model, messages, schema, maxOutputTokens: opts.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS }));
      },
    }),
  });
}
