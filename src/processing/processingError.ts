import { ServiceError, type ServiceErrorOptions } from '../errors/serviceError.js';

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

/** Union of {@link ProcessingErrorCodes}. */
export type ProcessingErrorCode = (typeof ProcessingErrorCodes)[keyof typeof ProcessingErrorCodes];

/** A failure while processing a webhook. */
export class ProcessingError extends ServiceError<ProcessingErrorCode> {
  constructor(code: ProcessingErrorCode, message: string, options: ServiceErrorOptions = {}) {
    super(code, message, { status: 500, ...options });
    this.name = 'ProcessingError';
  }
}

/** A permanent failure: the payload cannot be processed, retrying will not help. */
export function unprocessable(message: string, details?: unknown): ProcessingError {
  return new ProcessingError(ProcessingErrorCodes.PROCESSING_UNPROCESSABLE, message, { retriable: false, details });
}
