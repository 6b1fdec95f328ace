import { ServiceError, type ServiceErrorOptions } from './serviceError.js';
import { ErrorCodes, type ErrorCode } from './codes.js';

/** A webhook refused at the HTTP edge; nothing was published. */
class IngestError extends ServiceError<ErrorCode> {
  constructor(code: ErrorCode, status: number, message: string, options: ServiceErrorOptions = {}) {
    super(code, message, { ...options, status, expose: true });
    this.name = 'IngestError';
  }
}

/**
 * Why a webhook could not be stored although the stream may take it later:
 * `details.reason` of `INGEST_STREAM_UNAVAILABLE`.
 */
export const StreamUnavailableReasons = {
  /** NATS is not connected, or the streams are not set up yet. */
  notReady: 'notReady',
  /** JetStream did not acknowledge within the publish timeout. */
  timeout: 'timeout',
  /** No stream listens on `webhooks.<source>` (it was deleted, or JetStream is down). */
  noResponders: 'noResponders',
  /** The NATS connection closed before the ack. */
  closed: 'closed',
  /** The NATS client refused to send the message for another reason. */
  clientError: 'clientError',
  /** The server's permissions do not let this service's NATS user publish on `webhooks.<source>`. */
  permissionDenied: 'permissionDenied',
} as const;

/** Union of {@link StreamUnavailableReasons}. */
export type StreamUnavailableReason = (typeof StreamUnavailableReasons)[keyof typeof StreamUnavailableReasons];

/** Refusals of the ingest path, one constructor per failure. */
export const refuse = {
  unknownSource: (source: string, known: string[]) =>
    new IngestError(ErrorCodes.INGEST_UNKNOWN_SOURCE, 404, `unknown webhook source '${source}'`, { details: { known } }),
  unsupportedMediaType: (contentType: string | undefined) =>
    new IngestError(
      ErrorCodes.INGEST_UNSUPPORTED_MEDIA_TYPE,
      415,
      `content type must be application/json (UTF-8), got ${contentType ? `'${contentType}'` : 'none'}`,
    ),
  bodyTooLarge: (limit: number) =>
    new IngestError(ErrorCodes.INGEST_BODY_TOO_LARGE, 413, `body is larger than ${limit} bytes`, {
      details: { limit },
      headers: { Connection: 'close' },
    }),
  /** The body fits `MAX_BODY_BYTES` but not, with its headers, the NATS server's `max_payload`: a resend cannot succeed. */
  payloadTooLarge: (maxPayload: number | undefined) =>
    new IngestError(
      ErrorCodes.INGEST_BODY_TOO_LARGE,
      413,
      `body and its headers are larger than the NATS server's max_payload${maxPayload === undefined ? '' : ` (${maxPayload} bytes)`}`,
      { details: { limit: maxPayload, limitName: 'max_payload' } },
    ),
  invalidUtf8: () => new IngestError(ErrorCodes.INGEST_INVALID_UTF8, 400, 'body is not valid UTF-8'),
  malformedJson: (reason: string) => new IngestError(ErrorCodes.INGEST_MALFORMED_JSON, 400, `body is not valid JSON: ${reason}`),
  schemaInvalid: (source: string, errors: unknown) =>
    new IngestError(ErrorCodes.INGEST_SCHEMA_INVALID, 422, `body does not match the '${source}' schema`, { details: errors }),
  badHeader: (header: string, reason: string) =>
    new IngestError(ErrorCodes.INGEST_BAD_HEADER, 400, `header ${header} ${reason}`),
  signatureMissing: (headers: readonly string[]) =>
    new IngestError(ErrorCodes.INGEST_SIGNATURE_MISSING, 401, `this source requires a signature (headers ${headers.join(', ')})`, {
      details: { headers },
    }),
  signatureInvalid: () => new IngestError(ErrorCodes.INGEST_SIGNATURE_INVALID, 401, 'signature does not match the body'),
  signatureExpired: (header: string, toleranceS: number) =>
    new IngestError(ErrorCodes.INGEST_SIGNATURE_EXPIRED, 401, `${header} is more than ${toleranceS} s away from now`),
  streamUnavailable: (message: string, reason: StreamUnavailableReason = StreamUnavailableReasons.notReady, cause?: unknown) =>
    new IngestError(ErrorCodes.INGEST_STREAM_UNAVAILABLE, 503, `webhook not stored: ${message}`, {
      retriable: true,
      details: { reason },
      headers: { 'Retry-After': '2' },
      cause,
    }),
  /** JetStream answered with an API error; `errCode` is its `err_code` (10077 maximum messages, 10078 maximum bytes exceeded, ...). */
  streamRefused: (description: string, errCode: number | undefined, cause?: unknown) =>
    new IngestError(
      ErrorCodes.INGEST_STREAM_REFUSED,
      503,
      `webhook not stored: the stream refused it (${description}${errCode === undefined ? '' : `, err_code ${errCode}`})`,
      {
        retriable: true,
        details: { errCode },
        headers: { 'Retry-After': '30' },
        cause,
      },
    ),
  rateLimited: (retryAfterS: number) =>
    new IngestError(ErrorCodes.INGEST_RATE_LIMITED, 429, `too many webhooks from this client; retry in ${retryAfterS} s`, {
      retriable: true,
      details: { retryAfterS },
      headers: { 'Retry-After': String(retryAfterS) },
    }),
  shuttingDown: () =>
    new IngestError(ErrorCodes.SERVICE_SHUTTING_DOWN, 503, 'the service is shutting down', {
      retriable: true,
      headers: { 'Retry-After': '5', Connection: 'close' },
    }),
};
