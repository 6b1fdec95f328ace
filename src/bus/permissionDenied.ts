import { PermissionViolationError } from '@nats-io/transport-node';
import { ErrorCodes } from '../errors/codes.js';
import { ServiceError } from '../errors/serviceError.js';

/** Whether `e` (or its cause) is the server refusing this user a subject. */
export function isPermissionDenied(e: unknown): boolean {
  for (let c: unknown = e, depth = 0; c instanceof Error && depth < 4; c = c.cause, depth++) {
    if (c instanceof PermissionViolationError || /Permissions Violation/i.test(c.message)) return true;
  }
  return false;
}

/**
 * The error of a set-up step this user may not take: `what` is missing and
 * only another role (the worker) may create it. It keeps `/ready` at 503
 * with this message until the worker has.
 */
export function mayNotCreate(what: string, cause: unknown): ServiceError {
  const subject = (cause instanceof Error ? cause.message : String(cause)).match(/"([^"]+)"/)?.[1];
  return new ServiceError(
    ErrorCodes.NATS_PERMISSION_DENIED,
    `${what} does not exist and this NATS user may not create it${subject ? ` (publish to ${subject} denied)` : ''}; a worker (SERVICE_ROLE=worker or all) creates it`,
    { status: 503, retriable: true, cause },
  );
}
