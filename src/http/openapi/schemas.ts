import { ErrorCodes } from '../../errors/codes.js';

/** A JSON Schema (2020-12) or OpenAPI object, as plain JSON. */
export type Json = { [key: string]: unknown };

/** `$ref` to a component of the document. */
export const ref = (kind: 'schemas' | 'responses' | 'parameters' | 'headers', name: string): Json => ({ $ref: `#/components/${kind}/${name}` });

/** Every stable code an error body may carry: the edge's, the dependencies' and processing's (which reach clients through a webhook's `lastError`). */
const ALL_ERROR_CODES: readonly string[] = Object.values(ErrorCodes);

const int = { type: 'integer', minimum: 0 };
const str = { type: 'string' };
const nullable = (s: Json): Json => ({ anyOf: [s, { type: 'null' }] });
const object = (properties: Record<string, unknown>, required: string[] = Object.keys(properties)): Json => ({ type: 'object', properties, required });
const counts = { type: 'object', additionalProperties: { type: 'number' } };

const failure = object({ code: { type: 'string' }, message: str, retriable: { type: 'boolean' } });

const streamStats = nullable(object({ messages: int, bytes: int, firstSeq: int, lastSeq: int }));

const sourceStats = object({
  pending: nullable(int),
  numPending: nullable(int),
  numAckPending: nullable(int),
  received: int,
  published: int,
  processed: int,
  failed: int,
  retried: int,
  deadLettered: int,
  inFlight: int,
});

const breakerState = { type: 'string', enum: ['closed', 'halfOpen', 'open'] };

const actorStatus: Json = {
  ...object(
    {
      name: str,
      state: breakerState,
      activity: str,
      since: { type: 'number' },
      reason: str,
      queueLength: int,
      inFlight: int,
      counters: object({ ok: int, failed: int, rejected: int }),
      limits: object({ rate: { type: 'number' }, burst: { type: 'number' }, concurrency: int, maxQueue: int, timeoutMs: int }),
      tokens: counts,
      nextProbeAt: nullable({ type: 'number' }),
      pausedUntil: nullable({ type: 'number' }),
      callMs: nullable({ type: 'number', description: 'How long a call typically takes, in ms (moving average); null before the first has ended.' }),
      restarts: int,
      owner: nullable(object({ instance: str, since: { type: 'string', format: 'date-time' } })),
      instance: { type: 'string', description: '`INSTANCE_ID` of the instance this status comes from.' },
    },
    ['name', 'state', 'activity', 'since', 'reason', 'queueLength', 'inFlight', 'counters', 'limits', 'restarts', 'owner', 'instance'],
  ),
};

const deadLetterSummary = object({
  seq: int,
  subject: str,
  source: str,
  id: str,
  originalSubject: str,
  originalSeq: int,
  reason: str,
  deliveries: int,
  lastError: str,
  failedAt: { type: 'string', format: 'date-time' },
}, ['seq', 'subject', 'source', 'originalSubject', 'originalSeq', 'reason', 'deliveries', 'lastError', 'failedAt']);

/** `components.schemas` apart from the sources' request bodies. */
export const componentSchemas: Record<string, Json> = {
  ErrorCode: {
    description:
      'A stable error code (docs/http-api.md). Other 4xx errors raised by the HTTP stack (not by the service) carry `HTTP_<status>`.',
    anyOf: [{ type: 'string', enum: ALL_ERROR_CODES }, { type: 'string', pattern: '^HTTP_4[0-9]{2}$' }],
  },
  ErrorBody: {
    description: 'The one shape of every error response. `message` is for people; match on `code`.',
    type: 'object',
    additionalProperties: false,
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        additionalProperties: false,
        required: ['code', 'message'],
        properties: { code: ref('schemas', 'ErrorCode'), message: str, details: { description: 'Structured, client-safe detail (schema violations, known sources, limits).' } },
      },
    },
  },
  Accepted: object({
    id: { type: 'string', description: 'The sender\'s delivery id (webhook-id, x-github-delivery, idempotency-key) or a generated UUID.' },
    source: str,
    seq: { type: 'integer', minimum: 1, description: 'Sequence of the stored message in WEBHOOKS.' },
    duplicate: { type: 'boolean', description: 'True for a resend inside the duplicate window: nothing new was stored.' },
  }),
  WebhookStatus: {
    ...object(
      {
        id: str,
        source: str,
        status: { type: 'string', enum: ['queued', 'processing', 'retrying', 'done', 'dead'] },
        seq: int,
        deliveries: int,
        lastError: failure,
        result: { ...object({ bucket: str, key: str }), properties: { bucket: str, key: str, value: { description: 'The stored result (when done).' } } },
        retryAt: { type: 'number', description: 'Epoch ms of the next delivery, while retrying.' },
        deadLetter: object({ stream: str, subject: str }),
        updatedAt: { type: 'string', format: 'date-time' },
      },
      ['id', 'source', 'status', 'seq', 'deliveries', 'updatedAt'],
    ),
  },
  Health: object({ status: { const: 'ok' }, uptimeS: int }),
  Ready: object({ ready: { type: 'boolean' }, reason: str }),
  Stats: object({
    at: { type: 'string', format: 'date-time' },
    instance: { type: 'string', description: '`INSTANCE_ID` of the instance that answered.' },
    uptimeS: int,
    covers: {
      ...object({
        instances: { type: 'array', items: str },
        processes: { type: 'integer', minimum: 1 },
        unanswered: { type: 'array', items: object({ instance: str, pid: int }) },
      }),
      description:
        'Whose counters are summed: every live process of every instance that answered in time; `unanswered` lists the processes that have answered before and did not this time (one that has only announced itself is not waited for).',
    },
    received: int,
    published: int,
    duplicates: int,
    refused: object({ total: int, byCode: counts }),
    processed: int,
    failed: int,
    retried: int,
    deadLettered: int,
    inFlight: int,
    avgProcessingMs: nullable({ type: 'number' }),
    p99ProcessingMs: nullable({ type: 'number' }),
    p99Window: int,
    successRate: nullable({ type: 'number', minimum: 0, maximum: 1 }),
    sources: { type: 'object', additionalProperties: sourceStats },
    stream: streamStats,
    deadLetters: streamStats,
    protection: object({ rateLimited: int, connectionsRefused: int, slowClientsClosed: int, openConnections: int, sseClients: int, sseDropped: int }),
    nats: object({ ready: { type: 'boolean' }, reason: str }),
  }),
  Actors: object({ at: { type: 'string', format: 'date-time' }, dependencies: { type: 'array', items: actorStatus } }),
  DeadLetterSummary: deadLetterSummary,
  DeadLetterPage: object({ items: { type: 'array', items: ref('schemas', 'DeadLetterSummary') }, next: { type: 'integer', minimum: 1 } }, ['items']),
  DeadLetter: {
    allOf: [ref('schemas', 'DeadLetterSummary'), object({ headers: { type: 'object', additionalProperties: str }, body: {}, rawBody: str }, ['headers', 'rawBody'])],
  },
  Replayed: object({ seq: int, replayedAs: int, subject: str }),
  ReplayedAll: object({ replayed: int, failed: { type: 'array', items: object({ seq: int, error: str }) } }),
  Deleted: object({ deleted: int }),
};

/** An error response whose body carries one of `codes`. */
export function errorResponse(description: string, codes: readonly string[], headers: Record<string, Json> = {}): Json {
  return {
    description: `${description} Codes: ${codes.join(', ')}.`,
    ...(Object.keys(headers).length ? { headers } : {}),
    content: {
      'application/json': {
        schema: { allOf: [ref('schemas', 'ErrorBody'), { properties: { error: { properties: { code: { enum: codes } } } } }] },
      },
    },
  };
}

/** A JSON success response. */
export function jsonResponse(description: string, schema: Json, headers: Record<string, Json> = {}): Json {
  return { description, ...(Object.keys(headers).length ? { headers } : {}), content: { 'application/json': { schema } } };
}

/** `components.headers`. */
export const componentHeaders: Record<string, Json> = {
  RetryAfter: { description: 'Seconds to wait before trying again.', schema: { type: 'string', pattern: '^[0-9]+$' } },
  Location: { description: 'Where the webhook\'s status can be read: `/webhooks/{source}/{id}`.', schema: str },
  WwwAuthenticate: { description: '`Bearer`', schema: { const: 'Bearer' } },
};
