import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { Ajv } from 'ajv';
import { INSTANCE_ID_PATTERN } from '../../config/cluster.js';
import { OpsSubjects } from '../../bus/names.js';
import type { Log } from '../../log.js';
import type { BreakerState } from '../runtime/breaker.js';
import type { DependencyActivity, DependencyStatus } from '../runtime/status.js';

/** One instance's answer on {@link OpsSubjects.actors}. */
export interface InstanceActors {
  instance: string;
  /** The dependencies whose actors run in this instance. */
  dependencies: DependencyStatus[];
  /** Of those, the cluster-scoped ones it holds the lease of, with the lease's start (ISO 8601). */
  owned: Record<string, string>;
}

/** Most dependencies one answer may list. */
const MAX_DEPENDENCIES = 64;
/** Most token buckets one dependency may report. */
const MAX_BUCKETS = 16;

const BREAKER_STATES = Object.keys({ closed: true, open: true, halfOpen: true } satisfies Record<BreakerState, true>);
const ACTIVITIES = Object.keys({
  idle: true,
  waitingForSlot: true,
  waitingForToken: true,
  pausedForRetryAfter: true,
  probing: true,
  refusing: true,
  restarting: true,
  elsewhere: true,
} satisfies Record<DependencyActivity, true>);

/** JSON Schema of an instance id as {@link INSTANCE_ID_PATTERN} allows it. */
export const instanceIdSchema = { type: 'string', pattern: INSTANCE_ID_PATTERN.source } as const;

const NAME = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } as const;
const COUNT = { type: 'number', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
const NUMBER = { type: 'number', minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER } as const;
const buckets = { type: 'object', maxProperties: MAX_BUCKETS, propertyNames: NAME, additionalProperties: NUMBER } as const;

/**
 * The properties of a {@link DependencyStatus} as JSON Schema, each bounded,
 * for every message that carries one (an actors answer, a live actor event).
 */
export const dependencyStatusProperties = {
  name: NAME,
  state: { type: 'string', enum: BREAKER_STATES },
  activity: { type: 'string', enum: ACTIVITIES },
  since: COUNT,
  reason: { type: 'string', maxLength: 2000 },
  queueLength: COUNT,
  inFlight: COUNT,
  counters: {
    type: 'object',
    required: ['ok', 'failed', 'rejected'],
    properties: { ok: COUNT, failed: COUNT, rejected: COUNT },
    additionalProperties: false,
  },
  limits: {
    type: 'object',
    required: ['rate', 'burst', 'concurrency', 'maxQueue', 'timeoutMs'],
    properties: { rate: COUNT, burst: COUNT, concurrency: COUNT, maxQueue: COUNT, timeoutMs: COUNT },
    additionalProperties: false,
  },
  tokens: buckets,
  tokenCapacity: buckets,
  nextProbeAt: COUNT,
  pausedUntil: COUNT,
  restarts: COUNT,
} as const;

/** The properties every {@link DependencyStatus} has. */
export const dependencyStatusRequired = ['name', 'state', 'activity', 'since', 'reason', 'queueLength', 'inFlight', 'counters', 'limits', 'tokens', 'tokenCapacity', 'restarts'];

// removeAdditional: a newer instance's extra fields are dropped, not refused, and never passed on.
const validate = new Ajv({ removeAdditional: true }).compile<InstanceActors>({
  type: 'object',
  required: ['instance', 'dependencies', 'owned'],
  properties: {
    instance: instanceIdSchema,
    dependencies: {
      type: 'array',
      maxItems: MAX_DEPENDENCIES,
      items: { type: 'object', required: dependencyStatusRequired, properties: dependencyStatusProperties, additionalProperties: false },
    },
    owned: { type: 'object', maxProperties: MAX_DEPENDENCIES, propertyNames: NAME, additionalProperties: { type: 'string', maxLength: 64 } },
  },
  additionalProperties: false,
});

/**
 * Whether a decoded answer is an {@link InstanceActors}, every field within
 * its bounds (fields it does not know are removed from it).
 */
export function isInstanceActors(v: unknown): v is InstanceActors {
  return validate(v);
}

/**
 * Answers {@link OpsSubjects.actors} with this instance's running dependencies.
 * @returns the subscription
 */
export function serveActors(nc: NatsConnection, held: () => InstanceActors, log: Log): Subscription {
  return nc.subscribe(OpsSubjects.actors, {
    callback: (err, msg) => {
      if (err) return log.warn({ err }, 'actors subscription failed');
      msg.respond(JSON.stringify(held()));
    },
  });
}
