import { BadCallError, dependencyErrorToWire, isDepErrorCode, reviveDependencyError, type DependencyError, type DependencyErrorWire } from '../runtime/errors.js';

/**
 * A call as it travels to the owner. It carries no cost: the owner computes
 * what a request draws from its buckets from the request itself.
 */
export interface CallEnvelope {
  /** The dependency-specific request, as the handle built it (the owner checks it again). */
  request: unknown;
  /**
   * How long the caller waits for the reply, counted from when it sent it
   * (ms; clocks of two machines are never compared). The owner caps it at
   * its own forward deadline for the dependency.
   */
  deadlineMs: number;
}

/** The owner's answer. */
export type CallReply = { ok: true; value: unknown } | { ok: false; error: DependencyErrorWire };

const BYTES = '$bytes';

// Botpress uploads carry a Uint8Array: it travels as base64 and comes back as bytes.
const replacer = (_key: string, value: unknown) =>
  value instanceof Uint8Array ? { [BYTES]: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') } : value;
const reviver = (_key: string, value: unknown) => {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const b = (value as Record<string, unknown>)[BYTES];
    if (keys.length === 1 && typeof b === 'string') return new Uint8Array(Buffer.from(b, 'base64'));
  }
  return value;
};

function parseWire(dependency: string, data: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data), reviver);
  } catch {
    throw new BadCallError(dependency, `${what} is not JSON`);
  }
}

/** Encodes an envelope or a reply as JSON bytes. */
export function encodeWire(value: CallEnvelope | CallReply): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value, replacer));
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Decodes and validates a call envelope.
 * @throws BadCallError (`DEP_BAD_CALL`) naming what is wrong: not JSON, not an object, a bad `request` or `deadlineMs`.
 */
export function decodeEnvelope(dependency: string, data: Uint8Array): CallEnvelope {
  const parsed = parseWire(dependency, data, 'the call');
  if (!isRecord(parsed)) throw new BadCallError(dependency, 'not a JSON object');
  // Any other field (a `cost` some caller claims) is ignored: nothing in it is used.
  const { request, deadlineMs } = parsed;
  if (!isRecord(request)) throw new BadCallError(dependency, '`request` must be an object');
  if (typeof deadlineMs !== 'number' || !(deadlineMs > 0) || !Number.isFinite(deadlineMs)) {
    throw new BadCallError(dependency, '`deadlineMs` must be a positive number');
  }
  return { request, deadlineMs };
}

/** The reply carrying `error`. */
export function errorReply(error: DependencyError): CallReply {
  return { ok: false, error: dependencyErrorToWire(error) };
}

/** The owner's reply as the caller reads it: its value, or its error rebuilt. */
export type DecodedReply = { ok: true; value: unknown } | { ok: false; error: DependencyError };

// The longest pause an owner's error may ask for: its breaker's cool-down is capped at 5 minutes by default.
const MAX_RETRY_AFTER_MS = 3_600_000;

const isWireError = (e: unknown): e is DependencyErrorWire =>
  isRecord(e) &&
  isDepErrorCode(e.code) &&
  typeof e.message === 'string' &&
  e.message.length <= 2000 &&
  (e.retryAfterMs === undefined || (typeof e.retryAfterMs === 'number' && e.retryAfterMs >= 0 && e.retryAfterMs <= MAX_RETRY_AFTER_MS)) &&
  (e.upstreamStatus === undefined || (Number.isInteger(e.upstreamStatus) && (e.upstreamStatus as number) >= 100 && (e.upstreamStatus as number) <= 599));

/**
 * Decodes the owner's reply: the value, or the owner's error rebuilt as the
 * same subclass (`retryAfterMs` at most an hour, so a reply cannot park a
 * webhook for ever).
 * @throws Error when the reply is neither (not JSON, another shape).
 */
export function decodeReply(dependency: string, data: Uint8Array): DecodedReply {
  let reply: unknown;
  try {
    reply = JSON.parse(new TextDecoder().decode(data), reviver);
  } catch {
    throw new Error('the reply is not JSON');
  }
  if (isRecord(reply) && reply.ok === true && 'value' in reply) return { ok: true, value: reply.value };
  if (isRecord(reply) && reply.ok === false && isWireError(reply.error)) return { ok: false, error: reviveDependencyError(dependency, reply.error) };
  throw new Error('the reply has neither a value nor a dependency error');
}
