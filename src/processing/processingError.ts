import { ProcessingErrorCodes } from '../errors/codes.js';
import { ServiceError, type ServiceErrorOptions } from '../errors/serviceError.js';

export { ProcessingErrorCodes };

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
