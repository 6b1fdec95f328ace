/**
 * Every stable error code a dependency call can fail with. Handlers match on
 * these strings (through the guards below) and never on messages.
 */
export const DepErrorCodes = {
  /** The breaker is open: the call was not sent. Retriable after `retryAfterMs`. */
  DEP_CIRCUIT_OPEN: 'DEP_CIRCUIT_OPEN',
  /** The actor's mailbox is full (`maxQueue`): the call was not queued. Retriable. */
  DEP_OVERLOADED: 'DEP_OVERLOADED',
  /** No answer within `timeoutMs`; the request was aborted. Retriable. */
  DEP_TIMEOUT: 'DEP_TIMEOUT',
  /** The dependency could not be reached (DNS, refused, reset). Retriable. */
  DEP_UNAVAILABLE: 'DEP_UNAVAILABLE',
  /** The dependency answered 5xx (or 408). Retriable. */
  DEP_SERVER_ERROR: 'DEP_SERVER_ERROR',
  /** The dependency answered 429; the actor pauses until `retryAfterMs` has passed. Retriable. */
  DEP_RATE_LIMITED: 'DEP_RATE_LIMITED',
  /** The dependency refused the request (other 4xx) or the input is invalid. Permanent. */
  DEP_REJECTED: 'DEP_REJECTED',
  /** The dependency answered 2xx with a body that does not match its contract. Permanent. */
  DEP_BAD_RESPONSE: 'DEP_BAD_RESPONSE',
  /** The actor crashed (or is restarting) while the call waited. Retriable. */
  DEP_ACTOR_RESTARTED: 'DEP_ACTOR_RESTARTED',
  /**
   * The target is one the service refuses to reach (loopback, private, link-local...
   * address, or the service's own port), not allow-listed. Nothing was sent. Permanent.
   */
  DEP_TARGET_FORBIDDEN: 'DEP_TARGET_FORBIDDEN',
  /**
   * The dependency is owned by another instance that could not be reached (no
   * responders, no answer before the deadline, no owner while a lease changes
   * hands), or this instance lost its lease while the call waited. Retriable.
   */
  DEP_OWNER_UNAVAILABLE: 'DEP_OWNER_UNAVAILABLE',
  /** A message on a dependency call subject was not a valid call (bad JSON, wrong shape). Permanent. */
  DEP_BAD_CALL: 'DEP_BAD_CALL',
} as const;

/** Stable codes of failures while processing a stored webhook. */
export const ProcessingErrorCodes = {
  /** The stored message is not valid JSON for its source (published around the edge, or the schema changed). */
  PROCESSING_PAYLOAD_INVALID: 'PROCESSING_PAYLOAD_INVALID',
  /** The payload is valid JSON but the pipeline cannot use it (e.g. an order without an order number). */
  PROCESSING_UNPROCESSABLE: 'PROCESSING_UNPROCESSABLE',
  /** The result could not be stored; retried. */
  PROCESSING_STORE_FAILED: 'PROCESSING_STORE_FAILED',
  /** A handler failed in an unexpected way; retried. */
  PROCESSING_HANDLER_FAILED: 'PROCESSING_HANDLER_FAILED',
  /** The service stopped while the handler ran; the message comes back at once. */
  PROCESSING_INTERRUPTED: 'PROCESSING_INTERRUPTED',
} as const;

/**
 * Every stable error code the service emits, in one place: those of the
 * HTTP edge, the operating view and configuration below, and
 * {@link DepErrorCodes} and {@link ProcessingErrorCodes}. Clients and
 * operators may match on these strings; they never change meaning.
 */
export const ErrorCodes = {
  ...DepErrorCodes,
  ...ProcessingErrorCodes,
  /** No source is registered under the name in the URL. */
  INGEST_UNKNOWN_SOURCE: 'INGEST_UNKNOWN_SOURCE',
  /** The request's content type is not JSON. */
  INGEST_UNSUPPORTED_MEDIA_TYPE: 'INGEST_UNSUPPORTED_MEDIA_TYPE',
  /** The body is larger than `MAX_BODY_BYTES`. */
  INGEST_BODY_TOO_LARGE: 'INGEST_BODY_TOO_LARGE',
  /** The body is not valid UTF-8. */
  INGEST_INVALID_UTF8: 'INGEST_INVALID_UTF8',
  /** The body is not parseable JSON. */
  INGEST_MALFORMED_JSON: 'INGEST_MALFORMED_JSON',
  /** The body does not match the source's JSON Schema. */
  INGEST_SCHEMA_INVALID: 'INGEST_SCHEMA_INVALID',
  /** The source requires a signature and the request carries none. */
  INGEST_SIGNATURE_MISSING: 'INGEST_SIGNATURE_MISSING',
  /** The signature does not match the body and the source's secret. */
  INGEST_SIGNATURE_INVALID: 'INGEST_SIGNATURE_INVALID',
  /** The signed timestamp is more than the tolerance away from now. */
  INGEST_SIGNATURE_EXPIRED: 'INGEST_SIGNATURE_EXPIRED',
  /** A request header carries a value that cannot be used (too long, malformed). */
  INGEST_BAD_HEADER: 'INGEST_BAD_HEADER',
  /** JetStream could not be reached or did not acknowledge in time. */
  INGEST_STREAM_UNAVAILABLE: 'INGEST_STREAM_UNAVAILABLE',
  /** The stream refused the message (limits reached, no room). */
  INGEST_STREAM_REFUSED: 'INGEST_STREAM_REFUSED',
  /** The client IP sent more webhooks than `INGEST_RATE_PER_IP` allows; retry after `Retry-After`. */
  INGEST_RATE_LIMITED: 'INGEST_RATE_LIMITED',
  /** The edge process holds `MAX_CONNECTIONS` open connections; the new one is answered and closed. */
  HTTP_TOO_MANY_CONNECTIONS: 'HTTP_TOO_MANY_CONNECTIONS',
  /** The request (headers or body) did not arrive within its timeout; the connection is closed. */
  HTTP_REQUEST_TIMEOUT: 'HTTP_REQUEST_TIMEOUT',
  /** The connection closed (client gone, or closed for a timeout) before the request was read; nothing was stored. */
  HTTP_REQUEST_ABORTED: 'HTTP_REQUEST_ABORTED',
  /** The request is not well-formed HTTP; the connection is closed. */
  HTTP_BAD_REQUEST: 'HTTP_BAD_REQUEST',
  /** The request's headers are larger than the server accepts. */
  HTTP_HEADERS_TOO_LARGE: 'HTTP_HEADERS_TOO_LARGE',
  /** The process holding the operating data (stats, actors, metrics) did not answer in time. */
  OPS_UNAVAILABLE: 'OPS_UNAVAILABLE',
  /** A message on a `webhook-relay.ops.*` subject is not what that subject carries; it is logged and ignored (never an HTTP answer). */
  OPS_BAD_MESSAGE: 'OPS_BAD_MESSAGE',
  /**
   * The NATS server refused a publish or subscription for want of permission
   * (logged with the subject; see docs/security.md, "Least privilege per role", for each role's permissions).
   */
  NATS_PERMISSION_DENIED: 'NATS_PERMISSION_DENIED',
  /** The service is shutting down and accepts no new webhooks. */
  SERVICE_SHUTTING_DOWN: 'SERVICE_SHUTTING_DOWN',
  /** No status is recorded for that source and delivery id. */
  WEBHOOK_NOT_FOUND: 'WEBHOOK_NOT_FOUND',
  /** No dead letter has that sequence. */
  DEAD_LETTER_NOT_FOUND: 'DEAD_LETTER_NOT_FOUND',
  /** Admin routes are disabled because `ADMIN_TOKEN` is not set. */
  ADMIN_DISABLED: 'ADMIN_DISABLED',
  /** The admin bearer token is missing or wrong. */
  ADMIN_UNAUTHORIZED: 'ADMIN_UNAUTHORIZED',
  /** A query or path parameter has a value that cannot be used. */
  HTTP_BAD_PARAMETER: 'HTTP_BAD_PARAMETER',
  /** No route matches the request. */
  HTTP_NOT_FOUND: 'HTTP_NOT_FOUND',
  /** The route exists but not for this method; `Allow` lists the methods it takes. */
  HTTP_METHOD_NOT_ALLOWED: 'HTTP_METHOD_NOT_ALLOWED',
  /** No route of the service takes this method (TRACE, CONNECT, WebDAV or unknown methods). */
  HTTP_METHOD_NOT_IMPLEMENTED: 'HTTP_METHOD_NOT_IMPLEMENTED',
  /** An unexpected failure; details are only in the service's log. */
  INTERNAL_ERROR: 'INTERNAL_ERROR',
  /** An environment variable holds a value the service cannot use. */
  CONFIG_INVALID: 'CONFIG_INVALID',
} as const;

/** Union of every error code string. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];
