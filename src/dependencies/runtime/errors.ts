import { DepErrorCodes } from '../../errors/codes.js';
import { ServiceError, isServiceError } from '../../errors/serviceError.js';

/** Union of every dependency error code. */
export type DepErrorCode = (typeof DepErrorCodes)[keyof typeof DepErrorCodes];

/** Options of every {@link DependencyError}. */
export interface DependencyErrorOptions extends ErrorOptions {
  /** How long to wait before trying again, when the dependency or the breaker says so. */
  retryAfterMs?: number;
  /** HTTP status the dependency answered with, when it answered. */
  upstreamStatus?: number;
  /** Structured, client-safe detail (for example ajv's errors). */
  details?: unknown;
}

interface CodeTraits {
  retriable: boolean;
  status: number;
}

/** Whether each code is retriable, and the HTTP status it maps to at the edge. */
const traits: Record<DepErrorCode, CodeTraits> = {
  DEP_CIRCUIT_OPEN: { retriable: true, status: 503 },
  DEP_OVERLOADED: { retriable: true, status: 503 },
  DEP_TIMEOUT: { retriable: true, status: 504 },
  DEP_UNAVAILABLE: { retriable: true, status: 502 },
  DEP_SERVER_ERROR: { retriable: true, status: 502 },
  DEP_RATE_LIMITED: { retriable: true, status: 503 },
  DEP_REJECTED: { retriable: false, status: 502 },
  DEP_BAD_RESPONSE: { retriable: false, status: 502 },
  DEP_ACTOR_RESTARTED: { retriable: true, status: 503 },
  DEP_TARGET_FORBIDDEN: { retriable: false, status: 502 },
  DEP_OWNER_UNAVAILABLE: { retriable: true, status: 503 },
  DEP_BAD_CALL: { retriable: false, status: 502 },
};

/**
 * Base class of every failure of a dependency call. `retriable` follows from
 * the code; `dependency` names the actor (`audnex`, `mam`, ...).
 */
export class DependencyError<C extends DepErrorCode = DepErrorCode> extends ServiceError<C> {
  readonly dependency: string;
  readonly retryAfterMs?: number;
  readonly upstreamStatus?: number;

  constructor(code: C, dependency: string, message: string, options: DependencyErrorOptions = {}) {
    const retryAfterS = options.retryAfterMs === undefined ? undefined : Math.max(1, Math.ceil(options.retryAfterMs / 1000));
    super(code, `${dependency}: ${message}`, {
      ...traits[code],
      cause: options.cause,
      details: options.details,
      headers: retryAfterS === undefined ? undefined : { 'Retry-After': String(retryAfterS) },
    });
    this.name = 'DependencyError';
    this.dependency = dependency;
    this.retryAfterMs = options.retryAfterMs;
    this.upstreamStatus = options.upstreamStatus;
  }
}

/** The breaker is open; the call was refused without being sent. */
export class CircuitOpenError extends DependencyError<'DEP_CIRCUIT_OPEN'> {
  /** @param retryAfterMs time until the next probe may go out */
  constructor(dependency: string, retryAfterMs: number) {
    super('DEP_CIRCUIT_OPEN', dependency, `circuit open, next probe in ${retryAfterMs} ms`, { retryAfterMs });
    this.name = 'CircuitOpenError';
  }
}

/** The mailbox holds `maxQueue` calls already; the call was refused. */
export class OverloadedError extends DependencyError<'DEP_OVERLOADED'> {
  /**
   * @param maxQueue the bound that was reached
   * @param message why, when it is not a full mailbox
   */
  constructor(dependency: string, maxQueue: number, message = `mailbox full (${maxQueue} calls waiting)`) {
    super('DEP_OVERLOADED', dependency, message);
    this.name = 'OverloadedError';
  }
}

/** The call took longer than `timeoutMs`; its I/O was aborted. */
export class DependencyTimeoutError extends DependencyError<'DEP_TIMEOUT'> {
  /** @param timeoutMs the limit that passed */
  constructor(dependency: string, timeoutMs: number) {
    super('DEP_TIMEOUT', dependency, `no answer within ${timeoutMs} ms`);
    this.name = 'DependencyTimeoutError';
  }
}

/** The dependency could not be reached. */
export class UnavailableError extends DependencyError<'DEP_UNAVAILABLE'> {
  /** @param cause the network error */
  constructor(dependency: string, cause: unknown) {
    super('DEP_UNAVAILABLE', dependency, `unreachable (${describeCause(cause)})`, { cause });
    this.name = 'UnavailableError';
  }
}

/** The dependency answered with a server error. */
export class ServerError extends DependencyError<'DEP_SERVER_ERROR'> {
  /** @param status the HTTP status it answered with */
  constructor(dependency: string, status: number) {
    super('DEP_SERVER_ERROR', dependency, `answered HTTP ${status}`, { upstreamStatus: status });
    this.name = 'ServerError';
  }
}

/** The dependency answered 429; nothing is sent to it before `retryAfterMs` has passed. */
export class RateLimitedError extends DependencyError<'DEP_RATE_LIMITED'> {
  /** @param retryAfterMs from its `Retry-After` header; undefined lets the actor pause `defaultRetryAfterMs` */
  constructor(dependency: string, retryAfterMs: number | undefined) {
    const when = retryAfterMs === undefined ? 'no Retry-After' : `retry after ${retryAfterMs} ms`;
    super('DEP_RATE_LIMITED', dependency, `rate limited (${when})`, { retryAfterMs, upstreamStatus: 429 });
    this.name = 'RateLimitedError';
  }
}

/** The request is refused for good: a 4xx answer, or input that is never sent. */
export class RejectedError extends DependencyError<'DEP_REJECTED'> {
  /** @param reason what is wrong, @param options the upstream status when it answered */
  constructor(dependency: string, reason: string, options: DependencyErrorOptions = {}) {
    super('DEP_REJECTED', dependency, reason, options);
    this.name = 'RejectedError';
  }
}

/** The dependency answered 2xx with a body that breaks its contract. */
export class BadResponseError extends DependencyError<'DEP_BAD_RESPONSE'> {
  /** @param reason what is wrong, @param details e.g. ajv's errors */
  constructor(dependency: string, reason: string, details?: unknown) {
    super('DEP_BAD_RESPONSE', dependency, reason, { details });
    this.name = 'BadResponseError';
  }
}

/** The actor crashed or is restarting; the call was not answered by it. */
export class ActorRestartedError extends DependencyError<'DEP_ACTOR_RESTARTED'> {
  /** @param retryAfterMs time until the supervisor restarts it, when known */
  constructor(dependency: string, retryAfterMs?: number) {
    super('DEP_ACTOR_RESTARTED', dependency, 'actor restarted, call not completed', { retryAfterMs });
    this.name = 'ActorRestartedError';
  }
}

/** The target's address (or port) is one the service must never reach; nothing was sent to it. */
export class TargetForbiddenError extends DependencyError<'DEP_TARGET_FORBIDDEN'> {
  /** @param target the URL or `host:port` refused, @param reason why (the address and its range) */
  constructor(dependency: string, target: string, reason: string) {
    super('DEP_TARGET_FORBIDDEN', dependency, `refused ${target}: ${reason}`);
    this.name = 'TargetForbiddenError';
  }
}

/** The instance owning the dependency could not be reached, or this one stopped owning it under the call. */
export class OwnerUnavailableError extends DependencyError<'DEP_OWNER_UNAVAILABLE'> {
  /** @param reason what happened (no responders, timeout, lease lost) */
  constructor(dependency: string, reason: string, options: DependencyErrorOptions = {}) {
    super('DEP_OWNER_UNAVAILABLE', dependency, `owner unavailable (${reason})`, options);
    this.name = 'OwnerUnavailableError';
  }
}

/** A message on a dependency's call subject that is not a valid call. */
export class BadCallError extends DependencyError<'DEP_BAD_CALL'> {
  /** @param reason what is wrong with the message */
  constructor(dependency: string, reason: string) {
    super('DEP_BAD_CALL', dependency, `bad call: ${reason}`);
    this.name = 'BadCallError';
  }
}

function describeCause(cause: unknown): string {
  const inner = (cause as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (typeof inner?.code === 'string') return inner.code;
  return cause instanceof Error ? cause.message : String(cause);
}

const depCodes = new Set<string>(Object.values(DepErrorCodes));

/** Whether `e` is a dependency error (works across module copies; no `instanceof`). */
export function isDependencyError(e: unknown): e is DependencyError {
  return isServiceError(e) && depCodes.has(e.code) && typeof (e as { dependency?: unknown }).dependency === 'string';
}

/** Whether `e` is a dependency error with the given code. */
function hasDepCode<C extends DepErrorCode>(e: unknown, code: C): e is DependencyError<C> {
  return isDependencyError(e) && e.code === code;
}

/** Whether `e` says the breaker is open (see `retryAfterMs`). */
export function isCircuitOpenError(e: unknown): e is CircuitOpenError {
  return hasDepCode(e, 'DEP_CIRCUIT_OPEN');
}

/** Whether `e` says the dependency answered 429 (see `retryAfterMs`). */
export function isRateLimitedError(e: unknown): e is RateLimitedError {
  return hasDepCode(e, 'DEP_RATE_LIMITED');
}

/** Whether `e` says the actor restarted under the call. */
export function isActorRestartedError(e: unknown): e is ActorRestartedError {
  return hasDepCode(e, 'DEP_ACTOR_RESTARTED');
}

/** Whether `e` says a message on a call subject was not a valid call (`DEP_BAD_CALL`). */
export function isBadCallError(e: unknown): e is BadCallError {
  return hasDepCode(e, 'DEP_BAD_CALL');
}

/**
 * The class each code's errors are built with, so an error that crossed the
 * wire is rebuilt as the subclass its owner threw (see {@link reviveDependencyError}).
 */
const classOf: Record<DepErrorCode, { prototype: DependencyError; name: string }> = {
  DEP_CIRCUIT_OPEN: CircuitOpenError,
  DEP_OVERLOADED: OverloadedError,
  DEP_TIMEOUT: DependencyTimeoutError,
  DEP_UNAVAILABLE: UnavailableError,
  DEP_SERVER_ERROR: ServerError,
  DEP_RATE_LIMITED: RateLimitedError,
  DEP_REJECTED: RejectedError,
  DEP_BAD_RESPONSE: BadResponseError,
  DEP_ACTOR_RESTARTED: ActorRestartedError,
  DEP_TARGET_FORBIDDEN: TargetForbiddenError,
  DEP_OWNER_UNAVAILABLE: OwnerUnavailableError,
  DEP_BAD_CALL: BadCallError,
};

/** A dependency error as it travels between instances (JSON). */
export interface DependencyErrorWire {
  code: DepErrorCode;
  /** Without the `<dependency>: ` prefix. */
  message: string;
  retryAfterMs?: number;
  upstreamStatus?: number;
  details?: unknown;
}

/** Whether `code` is one of {@link DepErrorCodes}. */
export function isDepErrorCode(code: unknown): code is DepErrorCode {
  return typeof code === 'string' && depCodes.has(code);
}

/** The JSON form of a dependency error (pure). */
export function dependencyErrorToWire(e: DependencyError): DependencyErrorWire {
  const prefix = `${e.dependency}: `;
  const message = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
  return { code: e.code, message, retryAfterMs: e.retryAfterMs, upstreamStatus: e.upstreamStatus, details: e.details };
}

/**
 * Rebuilds an error from its JSON form as the same subclass, with the same
 * code, `retriable`, `retryAfterMs` and message, so callers' type guards and
 * retry decisions see what the owner saw.
 */
export function reviveDependencyError(dependency: string, wire: DependencyErrorWire): DependencyError {
  const e = new DependencyError(wire.code, dependency, wire.message, {
    retryAfterMs: wire.retryAfterMs,
    upstreamStatus: wire.upstreamStatus,
    details: wire.details,
  });
  const cls = classOf[wire.code];
  Object.setPrototypeOf(e, cls.prototype);
  e.name = cls.name;
  return e;
}

/**
 * Classifies whatever a call implementation threw: dependency errors pass
 * through; anything else is a network-level failure (`fetch` throws a
 * `TypeError` for refused or reset connections), hence `DEP_UNAVAILABLE`.
 */
export function asDependencyError(dependency: string, e: unknown): DependencyError {
  return isDependencyError(e) ? e : new UnavailableError(dependency, e);
}
