/**
 * Every stable error code the service emits, in one place. Clients and
 * operators may match on these strings; they never change meaning.
 */
export const ErrorCodes = {
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
   * (logged with the subject; see README "Security" for each role's permissions).
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
