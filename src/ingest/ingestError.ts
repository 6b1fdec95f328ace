import { ServiceError, type ServiceErrorOptions } from '../errors/serviceError.js';
import { ErrorCodes, type ErrorCode } from '../errors/codes.js';

/** A webhook refused at the HTTP edge; nothing was published. */
class IngestError extends ServiceError<ErrorCode> {
  constructor(code: ErrorCode, status: number, message: string, options: ServiceErrorOptions = {}) {
    super(code, message, { ...options, status, expose: true });
    this.name = 'IngestError';
  }
}

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
  invalidUtf8: () => new IngestError(ErrorCodes.INGEST_INVALID_UTF8, 400, 'body is not valid UTF-8'),
  malformedJson: (reason: string) => new IngestError(ErrorCodes.INGEST_MALFORMED_JSON, 400, `body is not valid JSON: ${reason}`),
  schemaInvalid: (source: string, errors: unknown) =>
    new IngestError(ErrorCodes.INGEST_SCHEMA_INVALID, 422, `body does not match the '${source}' schema`, { details: errors }),
  badHeader: (header: string, reason: string) =>
    new IngestError(ErrorCodes.INGEST_BAD_HEADER, 400, `header ${header} ${reason}`),
  signatureMissing: (source: string) =>
    new IngestError(
      ErrorCodes.INGEST_SIGNATURE_MISSING,
      401,
      `source '${source}' requires a signature (webhook-id/webhook-timestamp/webhook-signature or x-hub-signature-256)`,
    ),
  signatureInvalid: () => new IngestError(ErrorCodes.INGEST_SIGNATURE_INVALID, 401, 'signature does not match the body'),
  signatureExpired: (toleranceS: number) =>
    new IngestError(ErrorCodes.INGEST_SIGNATURE_EXPIRED, 401, `webhook-timestamp is more than ${toleranceS} s away from now`),
  streamUnavailable: (reason: string, cause?: unknown) =>
    new IngestError(ErrorCodes.INGEST_STREAM_UNAVAILABLE, 503, `webhook not stored: ${reason}`, {
      retriable: true,
      headers: { 'Retry-After': '2' },
      cause,
    }),
  streamRefused: (reason: string, cause?: unknown) =>
    new IngestError(ErrorCodes.INGEST_STREAM_REFUSED, 503, `webhook not stored: the stream refused it (${reason})`, {
      retriable: true,
      headers: { 'Retry-After': '30' },
      cause,
    }),
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
