import {
  BadCallError,
  dependencyErrorToWire,
  isDepErrorCode,
  reviveDependencyError,
  type DependencyError,
  type DependencyErrorWire,
} from '../runtime/errors.js';
import type { CallCost } from '../runtime/tokenBucket.js';

/**
 * Subject on which the owner of dependency `name` serves calls from other
 * instances (`webhook-relay.dep.audnex.call`). Only the owner subscribes, and
 * without a queue group, so a request reaches it or gets "no responders".
 */
export function callSubject(name: string): string {
  return `webhook-relay.dep.${name}.call`;
}

/** A call as it travels to the owner. */
export interface CallEnvelope {
  /** The dependency-specific request, as the handle built it. */
  request: unknown;
  /** What it draws from each token bucket. */
  cost?: CallCost;
  /** How long the caller waits for the reply, counted from when it sent it (ms; clocks of two machines are never compared). */
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
const isCost = (v: unknown): v is CallCost =>
  isRecord(v) && Object.values(v).every((n) => typeof n === 'number' && Number.isFinite(n) && n >= 0);

/**
 * Decodes and validates a call envelope.
 * @throws BadCallError (`DEP_BAD_CALL`) naming what is wrong: not JSON, not an object, a bad `request`, `cost` or `deadlineMs`.
 */
export function decodeEnvelope(dependency: string, data: Uint8Array): CallEnvelope {
  const parsed = parseWire(dependency, data, 'the call');
  if (!isRecord(parsed)) throw new BadCallError(dependency, 'not a JSON object');
  const { request, cost, deadlineMs } = parsed;
  if (!isRecord(request)) throw new BadCallError(dependency, '`request` must be an object');
  if (cost !== undefined && !isCost(cost)) throw new BadCallError(dependency, '`cost` must map bucket names to non-negative numbers');
  if (typeof deadlineMs !== 'number' || !(deadlineMs > 0) || !Number.isFinite(deadlineMs)) {
    throw new BadCallError(dependency, '`deadlineMs` must be a positive number');
  }
  return { request, cost, deadlineMs };
}

/** The reply carrying `error`. */
export function errorReply(error: DependencyError): CallReply {
  return { ok: false, error: dependencyErrorToWire(error) };
}

/**
 * Decodes the owner's reply: the value, or the owner's error rebuilt as the same subclass.
 * @throws DependencyError the owner's error; `DEP_BAD_CALL` when the reply itself is malformed.
 */
export function decodeReply(dependency: string, data: Uint8Array): unknown {
  const reply = parseWire(dependency, data, 'the reply');
  if (isRecord(reply) && reply.ok === true) return reply.value;
  if (isRecord(reply) && reply.ok === false && isRecord(reply.error) && isDepErrorCode(reply.error.code) && typeof reply.error.message === 'string') {
    throw reviveDependencyError(dependency, reply.error as unknown as DependencyErrorWire);
  }
  throw new BadCallError(dependency, 'reply has neither a value nor a dependency error');
}
