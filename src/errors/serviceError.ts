/** Options shared by every {@link ServiceError}. */
export interface ServiceErrorOptions extends ErrorOptions {
  /**
   * HTTP status used when the error reaches the HTTP edge.
   * @default 500
   */
  status?: number;
  /**
   * Whether `message` may be shown to a client. Internal errors are not.
   * @default status < 500
   */
  expose?: boolean;
  /**
   * Whether trying the same thing again later may succeed.
   * @default false
   */
  retriable?: boolean;
  /** Structured, client-safe detail (for example ajv's errors). */
  details?: unknown;
  /** Extra response headers, such as `Retry-After`. */
  headers?: Record<string, string>;
}

/**
 * Base class of every error the service raises on purpose. Each carries a
 * stable string `code`, an HTTP `status` and whether it is `retriable`.
 */
export class ServiceError<C extends string = string> extends Error {
  readonly code: C;
  readonly status: number;
  readonly expose: boolean;
  readonly retriable: boolean;
  readonly details?: unknown;
  readonly headers?: Record<string, string>;

  constructor(code: C, message: string, options: ServiceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ServiceError';
    this.code = code;
    this.status = options.status ?? 500;
    this.expose = options.expose ?? this.status < 500;
    this.retriable = options.retriable ?? false;
    this.details = options.details;
    this.headers = options.headers;
  }
}

/** Type guard that works across module copies (no `instanceof`). */
export function isServiceError(e: unknown): e is ServiceError {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { code?: unknown }).code === 'string' &&
    typeof (e as { status?: unknown }).status === 'number' &&
    typeof (e as { retriable?: unknown }).retriable === 'boolean'
  );
}
