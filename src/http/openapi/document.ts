import { ErrorCodes as E } from '../../errors/codes.js';
import { DELIVERY_ID_HEADERS, EVENT_TYPE_HEADERS } from '../../ingest/deliveryId.js';
import { signatureSchemes } from '../../signatures/index.js';
import { secretVariable } from '../../config/signatures.js';
import type { SourceDefinition } from '../../sources/source.js';
import { statusPageFiles } from '../routes/statusPage.js';
import { componentHeaders, componentSchemas, errorResponse, jsonResponse, ref, type Json } from './schemas.js';

/** Path of the served document. */
export const OPENAPI_PATH = '/openapi.json';

// Responses and parameters many operations share live once, in components.
const sharedResponses: Record<string, Json> = {};
const shared = (name: string, response: Json): Json => {
  sharedResponses[name] = response;
  return ref('responses', name);
};

const header = (name: string, description: string, schema: Json = { type: 'string' }): Json => ({ name, in: 'header', required: false, description, schema });
const retryAfter = { 'Retry-After': ref('headers', 'RetryAfter') };

const internal = shared('InternalError', errorResponse('An unexpected failure; the details are only in the service log.', [E.INTERNAL_ERROR]));
const opsUnavailable = shared('OpsUnavailable', errorResponse('No process holding the data answered in time (for example `/actors` asked of an edge process while no instance running the dependency actors answers).', [E.OPS_UNAVAILABLE], retryAfter));
const streamUnavailable = shared('StreamUnavailable', errorResponse('NATS is not connected or the streams are not ready.', [E.INGEST_STREAM_UNAVAILABLE], retryAfter));

/** Every signature scheme's headers that are not delivery ids, each with the schemes that use it. */
function signatureHeaders(): [string, string[]][] {
  const byHeader = new Map<string, string[]>();
  for (const scheme of signatureSchemes.values()) {
    for (const h of scheme.headers) {
      if ((DELIVERY_ID_HEADERS as readonly string[]).includes(h)) continue;
      byHeader.set(h, [...(byHeader.get(h) ?? []), scheme.name]);
    }
  }
  return [...byHeader];
}

const webhookHeaderParameters: Json[] = [
  header('content-type', 'Must be JSON: `application/json` or `application/<type>+json`, UTF-8.'),
  ...DELIVERY_ID_HEADERS.map((h) =>
    header(h, `The sender's delivery id (1–200 visible ASCII characters); resends with the same id inside the duplicate window store nothing. Read in the order ${DELIVERY_ID_HEADERS.join(', ')}; a UUID is generated when none is sent.`, {
      type: 'string',
      pattern: '^[\\x21-\\x7e]{1,200}$',
    }),
  ),
  ...signatureHeaders().map(([h, schemes]) =>
    header(h, `Signature header of the ${schemes.map((n) => `\`${n}\``).join(', ')} scheme (\`WEBHOOK_SIGNATURE_<SOURCE>\`); required when the source has a secret and uses that scheme.`),
  ),
  ...EVENT_TYPE_HEADERS.map((h) => header(h, 'The sender\'s event type, stored with the webhook.')),
];

const ingestResponses: Json = {
  202: jsonResponse('Stored in WEBHOOKS (or a resend inside the duplicate window).', ref('schemas', 'Accepted'), { Location: ref('headers', 'Location') }),
  400: shared('Ingest400', errorResponse('A header, the UTF-8 or the JSON is not usable, or the connection closed early.', [E.INGEST_BAD_HEADER, E.INGEST_INVALID_UTF8, E.INGEST_MALFORMED_JSON, E.HTTP_REQUEST_ABORTED])),
  401: shared('Ingest401', errorResponse('The source requires a signature and it is missing, wrong or expired.', [E.INGEST_SIGNATURE_MISSING, E.INGEST_SIGNATURE_INVALID, E.INGEST_SIGNATURE_EXPIRED])),
  404: shared('Ingest404', errorResponse('No source has this name.', [E.INGEST_UNKNOWN_SOURCE])),
  413: shared('Ingest413', errorResponse('The body is larger than MAX_BODY_BYTES.', [E.INGEST_BODY_TOO_LARGE])),
  415: shared('Ingest415', errorResponse('The content type is not JSON.', [E.INGEST_UNSUPPORTED_MEDIA_TYPE])),
  422: shared('Ingest422', errorResponse('The body does not match the source\'s JSON Schema; `details` lists the violations.', [E.INGEST_SCHEMA_INVALID])),
  429: shared('Ingest429', errorResponse('This client IP sent more than INGEST_RATE_PER_IP allows.', [E.INGEST_RATE_LIMITED], retryAfter)),
  500: internal,
  503: shared('Ingest503', errorResponse('Not stored: JetStream unreachable or full, or the service is shutting down.', [E.INGEST_STREAM_UNAVAILABLE, E.INGEST_STREAM_REFUSED, E.SERVICE_SHUTTING_DOWN], retryAfter)),
};

const webhookHeaders = webhookHeaderParameters.map((p) => ref('parameters', headerParameterName(p.name as string)));

function headerParameterName(header: string): string {
  return `header_${header.replace(/-/g, '_')}`;
}

function ingestOperation(sourceNames: readonly string[], body: Json, source?: SourceDefinition): Json {
  return {
    operationId: source ? `postWebhook_${source.name}` : 'postWebhook',
    tags: ['ingest'],
    summary: source ? `Accept a webhook of '${source.name}'` : 'Accept a webhook',
    description: [
      source?.description,
      'Checks, in order: source, content type, size, signature (when the source has a secret), UTF-8 and JSON, then the source\'s JSON Schema;',
      'answers 202 only after JetStream stored the webhook.',
      source ? `Signed when \`${secretVariable(source.name)}\` is set.` : `Sources: ${sourceNames.join(', ')}.`,
    ]
      .filter(Boolean)
      .join(' '),
    parameters: webhookHeaders,
    requestBody: { required: true, content: { 'application/json': { schema: body } } },
    responses: ingestResponses,
  };
}

const badParameter = shared('BadParameter', errorResponse('A query or path parameter has a value that cannot be used.', [E.HTTP_BAD_PARAMETER]));
const adminUnauthorized = shared(
  'AdminUnauthorized',
  errorResponse('The bearer token is missing or wrong.', [E.ADMIN_UNAUTHORIZED], { 'WWW-Authenticate': ref('headers', 'WwwAuthenticate') }),
);
const adminDisabled = shared('AdminDisabled', errorResponse('ADMIN_TOKEN is not set: admin routes are disabled.', [E.ADMIN_DISABLED]));
const deadLetterNotFound = shared('DeadLetterNotFound', errorResponse('No dead letter has this sequence.', [E.DEAD_LETTER_NOT_FOUND]));

const admin = (operationId: string, summary: string, parameters: Json[], ok: Json, extra: Record<string, Json> = {}): Json => ({
  operationId,
  tags: ['dead letters'],
  summary,
  security: [{ adminToken: [] }],
  parameters,
  responses: {
    200: ok,
    400: badParameter,
    401: adminUnauthorized,
    403: adminDisabled,
    ...extra,
    500: internal,
    503: streamUnavailable,
  },
});

function deadLetterPaths(sourceNames: readonly string[]): Record<string, Json> {
  const source: Json = { name: 'source', in: 'query', required: false, description: 'Only this source\'s dead letters.', schema: { type: 'string', enum: sourceNames } };
  const seq: Json = { name: 'seq', in: 'path', required: true, description: 'Sequence in DEAD_LETTERS.', schema: { type: 'string', pattern: '^[0-9]+$' } };
  const notFound = { 404: deadLetterNotFound };
  const resume: Json = {
    name: 'resume',
    in: 'query',
    required: false,
    description: '`true`: the replayed webhook keeps the pipeline steps that had finished (`Dlq-Steps-Done`) and calls only the rest; by default it starts clean.',
    schema: { type: 'string', enum: ['true', 'false'] },
  };
  return {
    '/dead-letters': {
      get: admin('listDeadLetters', 'List dead letters, oldest first, a page at a time', [
        source,
        { name: 'limit', in: 'query', required: false, description: 'Page size, 1–500 (default 50).', schema: { type: 'string', pattern: '^[0-9]+$' } },
        { name: 'after', in: 'query', required: false, description: 'The `next` of the previous page.', schema: { type: 'string', pattern: '^[0-9]+$' } },
      ], jsonResponse('A page of dead letters.', ref('schemas', 'DeadLetterPage'))),
    },
    '/dead-letters/replay': {
      post: admin('replayDeadLetters', 'Republish every dead letter (of a source) to WEBHOOKS and delete it', [source, resume], jsonResponse('What was replayed and what failed.', ref('schemas', 'ReplayedAll'))),
    },
    '/dead-letters/{seq}': {
      get: admin('getDeadLetter', 'One dead letter with its headers and body', [seq], jsonResponse('The dead letter.', ref('schemas', 'DeadLetter')), notFound),
      delete: admin('deleteDeadLetter', 'Delete one dead letter', [seq], jsonResponse('Deleted.', ref('schemas', 'Deleted')), notFound),
    },
    '/dead-letters/{seq}/replay': {
      post: admin('replayDeadLetter', 'Republish one dead letter to WEBHOOKS and delete it', [seq, resume], jsonResponse('Replayed under a new sequence.', ref('schemas', 'Replayed')), notFound),
    },
  };
}

function opsPaths(): Record<string, Json> {
  const noStore = (operationId: string, summary: string, ok: Json): Json => ({ get: { operationId, tags: ['operations'], summary, responses: { 200: ok, 500: internal, 503: opsUnavailable } } });
  return {
    '/health': { get: { operationId: 'health', tags: ['operations'], summary: 'Liveness: 200 while the process runs', responses: { 200: jsonResponse('Alive.', ref('schemas', 'Health')) } } },
    '/ready': {
      get: {
        operationId: 'ready',
        tags: ['operations'],
        summary: 'Readiness: NATS connected and the streams exist',
        responses: { 200: jsonResponse('Ready.', ref('schemas', 'Ready')), 503: jsonResponse('Not ready; `reason` says why.', ref('schemas', 'Ready'), retryAfter) },
      },
    },
    '/stats': noStore('stats', 'Counters, backlogs, stream sizes and latencies of the whole cluster', jsonResponse('The current numbers, counters summed over every live process of every instance (`covers` says which).', ref('schemas', 'Stats'))),
    '/actors': noStore('actors', 'Every dependency actor: breaker, mailbox, limits, owner', jsonResponse('The actors, each as the instance running it reports it.', ref('schemas', 'Actors'))),
    '/metrics': noStore('metrics', 'Prometheus metrics (text format 0.0.4) of this instance', {
      description: 'Every metric of the answering instance (docs/operating.md, "Metrics"), its processes summed, each series labelled `instance_id`. Prometheus scrapes every instance.',
      content: { 'text/plain; version=0.0.4; charset=utf-8': { schema: { type: 'string' } } },
    }),
    '/events': noStore('events', 'Server-Sent Events: a snapshot, then actor transitions and webhook outcomes', {
      description: 'An event stream that stays open: `snapshot` first, then `actor`, `webhook` and periodic `stats` events, each `data:` a JSON object.',
      content: { 'text/event-stream': { schema: { type: 'string' } } },
    }),
    [OPENAPI_PATH]: {
      get: { operationId: 'openapi', tags: ['operations'], summary: 'This document', responses: { 200: jsonResponse('The OpenAPI 3.1 description of the HTTP API.', { type: 'object', required: ['openapi', 'paths'] }) } },
    },
  };
}

function statusPagePaths(): Record<string, Json> {
  const paths: Record<string, Json> = {};
  for (const { file, route, type } of statusPageFiles()) {
    paths[route] = {
      get: {
        operationId: `statusPage_${file.replace(/\W/g, '_')}`,
        tags: ['status page'],
        summary: route === '/' ? 'The status page' : `Status page asset ${file}`,
        parameters: [header('if-none-match', 'An ETag from an earlier answer.')],
        responses: {
          200: { description: `\`${file}\` with an ETag and a strict Content-Security-Policy.`, headers: { ETag: { schema: { type: 'string' } } }, content: { [type]: { schema: { type: 'string' } } } },
          304: { description: 'Not modified (If-None-Match matched the ETag).' },
        },
      },
    };
  }
  return paths;
}

/**
 * The OpenAPI 3.1 description of the HTTP API, built from what the routes
 * are built from (the sources and their JSON Schemas, the error codes, the
 * delivery-id headers, the status page's files), so it cannot drift from
 * them. The committed `openapi.json` is this document (see
 * `scripts/openapi.ts`).
 */
export function buildOpenApiDocument(sources: ReadonlyMap<string, SourceDefinition>): Json {
  const names = [...sources.keys()];
  const sourceSchemas: Record<string, Json> = {};
  const webhookPaths: Record<string, Json> = {};
  for (const s of sources.values()) {
    // The schema's own $id would make it a separate resource inside this document; refs resolve from the document.
    const { $id: _id, ...schema } = s.schema;
    sourceSchemas[`Source_${s.name}`] = schema;
    webhookPaths[`/webhooks/${s.name}`] = { post: ingestOperation(names, ref('schemas', `Source_${s.name}`), s) };
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'webhook-relay',
      version: '0.1.0',
      description:
        'Durable webhook ingest into NATS JetStream, with per-source processing. Every error answer has the body `ErrorBody` with a stable `code`. ' +
        'A path no route matches answers 404 `HTTP_NOT_FOUND`; a method a path does not support answers 405 `HTTP_METHOD_NOT_ALLOWED` ' +
        '(components.responses NotFound and MethodNotAllowed). Before any route, the connection guard may answer 400 HTTP_BAD_REQUEST, 408 HTTP_REQUEST_TIMEOUT, ' +
        '431 HTTP_HEADERS_TOO_LARGE or 503 HTTP_TOO_MANY_CONNECTIONS and close the connection.',
    },
    tags: [{ name: 'ingest' }, { name: 'dead letters' }, { name: 'operations' }, { name: 'status page' }],
    paths: {
      '/webhooks/{source}': {
        parameters: [{ name: 'source', in: 'path', required: true, schema: { type: 'string' }, description: `One of ${names.join(', ')}; each has its own path below with its schema.` }],
        post: ingestOperation(names, { anyOf: names.map((n) => ref('schemas', `Source_${n}`)) }),
      },
      ...webhookPaths,
      '/webhooks/{source}/{id}': {
        get: {
          operationId: 'getWebhookStatus',
          tags: ['ingest'],
          summary: 'A webhook\'s status, deliveries, last error and result',
          description: 'Anyone gets the status fields; with the admin token also the last error\'s message and the stored result. A wrong token is refused, never answered as anonymous.',
          // The token is optional: no requirement ({}) or the admin token.
          security: [{}, { adminToken: [] }],
          parameters: [
            { name: 'source', in: 'path', required: true, schema: { type: 'string', enum: names } },
            { name: 'id', in: 'path', required: true, description: 'The id the 202 answered (URL-encoded).', schema: { type: 'string' } },
          ],
          responses: {
            200: jsonResponse('Its status; `result.value` holds the stored result once done.', ref('schemas', 'WebhookStatus')),
            401: errorResponse('The bearer token is wrong or malformed (without an Authorization header the answer is the anonymous one).', [E.ADMIN_UNAUTHORIZED], {
              'WWW-Authenticate': ref('headers', 'WwwAuthenticate'),
            }),
            403: errorResponse('A token was sent while ADMIN_TOKEN is not set.', [E.ADMIN_DISABLED]),
            404: errorResponse('Unknown source, or no status for this id.', [E.INGEST_UNKNOWN_SOURCE, E.WEBHOOK_NOT_FOUND]),
            500: internal,
            503: streamUnavailable,
          },
        },
      },
      ...deadLetterPaths(names),
      ...opsPaths(),
      ...statusPagePaths(),
    },
    components: {
      schemas: { ...componentSchemas, ...sourceSchemas },
      headers: componentHeaders,
      parameters: Object.fromEntries(webhookHeaderParameters.map((p) => [headerParameterName(p.name as string), p])),
      responses: {
        ...sharedResponses,
        NotFound: errorResponse('No route matches the path.', [E.HTTP_NOT_FOUND]),
        MethodNotAllowed: errorResponse('The path exists but not for this method.', [E.HTTP_METHOD_NOT_ALLOWED]),
      },
      securitySchemes: { adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' } },
    },
  };
}
