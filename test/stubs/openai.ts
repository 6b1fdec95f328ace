import { StubServer, type StubAnswer, type StubRequest } from './stubServer.js';

/** The part of a Chat Completions request body the stub reads. */
export interface ChatRequestBody {
  model: string;
  messages: { role: string; content: string }[];
  response_format?: { type: string; json_schema?: { name: string; schema: unknown; strict?: boolean } };
  max_completion_tokens?: number;
  max_tokens?: number;
}

/** One completion request the stub received (after authentication). */
export interface CompletionRecord {
  /** `Date.now()` when it arrived. */
  readonly at: number;
  readonly body: ChatRequestBody;
  readonly promptTokens: number;
  /** `max_completion_tokens` (or the older `max_tokens`). */
  readonly maxTokens: number | undefined;
  /** Prompt plus completion tokens it was charged (0 for a 429). */
  readonly usedTokens: number;
  /** 200, or 429 when it would have overdrawn the token limit. */
  readonly status: number;
}

/** Options of {@link startOpenAIStub}. */
export interface OpenAIStubOptions {
  /** @default 'sk-test' */
  apiKey?: string;
  /**
   * Tokens admitted per window, refilled continuously (OpenAI's TPM limit).
   * @default 1000000
   */
  tokensPerWindow?: number;
  /** @default 60000 */
  windowMs?: number;
}

/** A stub of api.openai.com's `POST /v1/chat/completions`. */
export interface OpenAIStub {
  readonly server: StubServer;
  /** The SDK's `baseURL`: the server's URL plus `/v1`. */
  readonly baseUrl: string;
  /** What the "model" extracts: a value, or a function of the request. */
  answer: unknown;
  /** When set, completions refuse with this text instead of answering. */
  refusal: string | undefined;
  readonly completions: CompletionRecord[];
  /** Tokens the limit holds now. */
  tokensLeft(): number;
  close(): Promise<void>;
}

const RATE_LIMIT_REQUESTS = 10_000;

/** `x-ratelimit-reset-*` style: "20ms", "1s", "6m0s", "1.5s". */
function formatReset(ms: number): string {
  if (ms < 1000) return `${Math.ceil(ms)}ms`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 10) / 100;
  return minutes > 0 ? `${minutes}m${seconds}s` : `${seconds}s`;
}

const openaiError = (status: number, message: string, type: string, code: string | null): StubAnswer => ({
  status,
  body: { error: { message, type, param: null, code } },
});

/**
 * Counts tokens the way a tokenizer averaging 4 characters a token would:
 * message contents and the response schema, plus 3 per message and 3 to prime the reply.
 */
function stubPromptTokens(body: ChatRequestBody): number {
  const chars = body.messages.reduce((n, m) => n + String(m.content).length, 0) + JSON.stringify(body.response_format?.json_schema?.schema ?? '').length;
  return Math.floor(chars / 4) + 3 * body.messages.length + 3;
}

/**
 * Starts a stub of OpenAI's Chat Completions endpoint on the real wire format:
 * bearer-key authentication, the `chat.completion` object with `usage`,
 * `x-ratelimit-*` headers, and its own token limit: a request whose prompt
 * tokens plus `max_completion_tokens` exceed what the limit holds gets OpenAI's
 * 429 (`rate_limit_exceeded`, `retry-after`, `retry-after-ms`); an admitted one
 * is then charged its real total. The answer is `stub.answer`, as JSON content.
 */
export async function startOpenAIStub(options: OpenAIStubOptions = {}): Promise<OpenAIStub> {
  const apiKey = options.apiKey ?? 'sk-test';
  const capacity = options.tokensPerWindow ?? 1_000_000;
  const perMs = capacity / (options.windowMs ?? 60_000);
  let tokens = capacity;
  let updatedAt = Date.now();
  let seq = 0;
  const refill = () => {
    const now = Date.now();
    tokens = Math.min(capacity, tokens + (now - updatedAt) * perMs);
    updatedAt = now;
    return tokens;
  };
  const limitHeaders = (): Record<string, string> => ({
    'x-ratelimit-limit-requests': String(RATE_LIMIT_REQUESTS),
    'x-ratelimit-remaining-requests': String(RATE_LIMIT_REQUESTS - 1),
    'x-ratelimit-reset-requests': formatReset(60_000 / RATE_LIMIT_REQUESTS),
    'x-ratelimit-limit-tokens': String(capacity),
    'x-ratelimit-remaining-tokens': String(Math.max(0, Math.floor(tokens))),
    'x-ratelimit-reset-tokens': formatReset((capacity - tokens) / perMs),
  });

  const complete = (body: ChatRequestBody, at: number): StubAnswer => {
    const promptTokens = stubPromptTokens(body);
    const maxTokens = body.max_completion_tokens ?? body.max_tokens;
    const admitted = promptTokens + (maxTokens ?? 0);
    const available = refill();
    if (admitted > available) {
      stub.completions.push({ at, body, promptTokens, maxTokens, usedTokens: 0, status: 429 });
      const waitMs = Math.ceil((admitted - available) / perMs);
      const answer = openaiError(
        429,
        `Rate limit reached for ${body.model} in organization org-stub on tokens per min (TPM): Limit ${capacity}, Used ${Math.ceil(capacity - available)}, Requested ${admitted}. Please try again in ${formatReset(waitMs)}.`,
        'tokens',
        'rate_limit_exceeded',
      );
      return { ...answer, headers: { ...limitHeaders(), 'retry-after': String(Math.ceil(waitMs / 1000)), 'retry-after-ms': String(waitMs) } };
    }
    tokens -= admitted;
    const answer = typeof stub.answer === 'function' ? (stub.answer as (b: ChatRequestBody) => unknown)(body) : stub.answer;
    let content: string | null = stub.refusal === undefined ? JSON.stringify(answer) : null;
    let completionTokens = Math.ceil((content ?? stub.refusal ?? '').length / 4);
    let finishReason = 'stop';
    if (content !== null && maxTokens !== undefined && completionTokens > maxTokens) {
      content = content.slice(0, maxTokens * 4);
      completionTokens = maxTokens;
      finishReason = 'length';
    }
    // Admitted against its maximum, charged what it really used.
    tokens = Math.min(capacity, tokens + admitted - (promptTokens + completionTokens));
    stub.completions.push({ at, body, promptTokens, maxTokens, usedTokens: promptTokens + completionTokens, status: 200 });
    seq += 1;
    return {
      status: 200,
      headers: { ...limitHeaders(), 'x-request-id': `req_stub${seq}`, 'openai-processing-ms': '12', 'openai-version': '2020-10-01' },
      body: {
        id: `chatcmpl-stub${seq}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: `${body.model}-2024-07-18`,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content, refusal: stub.refusal ?? null, annotations: [] },
            logprobs: null,
            finish_reason: finishReason,
          },
        ],
        usage: {
          prompt_tokens: promptTokens,
          completion_tokens: completionTokens,
          total_tokens: promptTokens + completionTokens,
          prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
          completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
        },
        service_tier: 'default',
        system_fingerprint: 'fp_stub',
      },
    };
  };

  const routes = (method: string, url: URL, request: StubRequest): StubAnswer => {
    const at = Date.now();
    if (method !== 'POST' || url.pathname !== '/v1/chat/completions') {
      return openaiError(404, `Invalid URL (${method} ${url.pathname})`, 'invalid_request_error', null);
    }
    if (request.headers.authorization !== `Bearer ${apiKey}`) {
      return openaiError(401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
    }
    let body: ChatRequestBody;
    try {
      body = JSON.parse(request.body) as ChatRequestBody;
    } catch {
      return openaiError(400, 'We could not parse the JSON body of your request.', 'invalid_request_error', null);
    }
    if (typeof body.model !== 'string' || !Array.isArray(body.messages) || body.messages.length === 0) {
      return openaiError(400, "Missing required parameter: 'model' or 'messages'.", 'invalid_request_error', 'missing_required_parameter');
    }
    return complete(body, at);
  };

  const server = await StubServer.start(routes);
  const stub: OpenAIStub = {
    server,
    baseUrl: `${server.url}/v1`,
    answer: {},
    refusal: undefined,
    completions: [],
    tokensLeft: refill,
    close: () => server.close(),
  };
  return stub;
}
