import { Ajv } from 'ajv';
import { dependencyStatusProperties, dependencyStatusRequired, instanceIdSchema } from '../dependencies/mod.js';
import { INSTANCE_LABEL, METRIC_PREFIX } from './metrics.js';
import type { WebhookOutcome } from './opsReader.js';
import type { EventsBatch, MetricsReply, Presence, Watch } from './opsSubjects.js';
import { RECENT_DURATIONS } from './recentDurations.js';

/**
 * What a message on the ops subjects may claim. Each subject's messages are
 * checked against a JSON Schema with every string, number and list bounded,
 * so that one answer cannot put a million series into `/metrics`, a counter
 * that breaks a sum into `/stats`, or text that breaks the Prometheus format
 * into either. Fields a schema does not know are removed, not refused (a
 * newer process may send more).
 */

/** Most metric families one metrics answer may carry. */
const MAX_METRIC_FAMILIES = 256;
/** Most series one metrics answer may carry, every family together. */
const MAX_SERIES = 20_000;
/** Most labels one series may carry. */
const MAX_LABELS = 16;
/** Most events one live-feed batch or latest-events answer may carry. */
const MAX_BATCH_EVENTS = 500;

const MAX = Number.MAX_SAFE_INTEGER;
/** A count, a time or a duration: never negative, never so large that a sum over processes stops being exact. */
const COUNT = { type: 'number', minimum: 0, maximum: MAX } as const;
const MEMBER = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } as const;
const TEXT = { type: 'string', maxLength: 2000 } as const;

const presenceSchema = {
  type: 'object',
  required: ['member', 'instance', 'pid', 'role', 'processing', 'startedAt'],
  properties: {
    member: MEMBER,
    instance: instanceIdSchema,
    pid: { type: 'integer', minimum: 1, maximum: 2 ** 31 - 1 },
    role: { type: 'string', enum: ['primary', 'edgeProcess'] },
    processing: { type: 'boolean' },
    startedAt: COUNT,
    leaving: { type: 'boolean' },
    hello: { type: 'boolean' },
  },
  additionalProperties: false,
};

const METRIC_NAME = { type: 'string', pattern: `^${METRIC_PREFIX}[a-zA-Z0-9_]{1,120}$` } as const;

const seriesSchema = {
  type: 'object',
  required: ['value', 'labels'],
  properties: {
    // NaN goes out as null (prom-client's event-loop mean before its first sample).
    value: { type: ['number', 'null'], minimum: -MAX, maximum: MAX },
    labels: {
      type: 'object',
      maxProperties: MAX_LABELS,
      propertyNames: { type: 'string', pattern: '^[a-zA-Z_][a-zA-Z0-9_]{0,99}$' },
      additionalProperties: { type: ['string', 'number'], maxLength: 200, minimum: -MAX, maximum: MAX },
    },
    // A histogram's series are named `<name>_bucket`, `_sum` and `_count`.
    metricName: METRIC_NAME,
  },
  additionalProperties: false,
};

const metricFamilySchema = {
  type: 'object',
  required: ['name', 'help', 'type', 'aggregator', 'values'],
  properties: {
    name: METRIC_NAME,
    help: { type: 'string', maxLength: 500 },
    type: { type: 'string', enum: ['counter', 'gauge', 'histogram', 'summary'] },
    // prom-client's aggregators; any other name would make the sum throw.
    aggregator: { type: 'string', enum: ['sum', 'first', 'min', 'max', 'average', 'omit'] },
    values: { type: 'array', maxItems: MAX_SERIES, items: seriesSchema },
  },
  additionalProperties: false,
  // Only a gauge goes below zero (-1: a stream without a limit).
  if: { type: 'object', properties: { type: { not: { const: 'gauge' } } } },
  then: { type: 'object', properties: { values: { type: 'array', items: { type: 'object', properties: { value: { type: ['number', 'null'], minimum: 0 } } } } } },
};

const metricsReplySchema = {
  type: 'object',
  required: ['member', 'instance', 'metrics', 'recentDurationsMs', 'recentGrowth'],
  properties: {
    member: MEMBER,
    instance: instanceIdSchema,
    metrics: { type: 'array', maxItems: MAX_METRIC_FAMILIES, items: metricFamilySchema },
    // A process keeps this many; more would weigh on the cluster-wide p99 beyond its share.
    recentDurationsMs: { type: 'array', maxItems: RECENT_DURATIONS, items: COUNT },
    recentGrowth: {
      type: 'object',
      required: ['refused', 'retried', 'deadLettered'],
      properties: { refused: COUNT, retried: COUNT, deadLettered: COUNT },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
};

const NULLABLE_COUNT = { type: ['number', 'null'], minimum: 0, maximum: MAX } as const;
const OUTCOMES = Object.keys({ done: true, retrying: true, exhausted: true, deadLettered: true } satisfies Record<WebhookOutcome, true>);

const actorEventSchema = {
  type: 'object',
  required: ['type', 'instance', 'cause', 'dependency', 'at'],
  properties: {
    type: { const: 'actor' },
    instance: instanceIdSchema,
    cause: { type: 'string', enum: ['transition', 'crashed', 'started'] },
    dependency: dependencyStatusProperties.name,
    from: dependencyStatusProperties.state,
    to: dependencyStatusProperties.state,
    reason: TEXT,
    at: COUNT,
    status: {
      type: 'object',
      required: [...dependencyStatusRequired, 'nextProbeAt', 'pausedUntil', 'owner', 'instance'],
      properties: {
        ...dependencyStatusProperties,
        nextProbeAt: NULLABLE_COUNT,
        pausedUntil: NULLABLE_COUNT,
        owner: {
          type: ['object', 'null'],
          required: ['instance', 'since'],
          properties: { instance: instanceIdSchema, since: { type: 'string', maxLength: 64 } },
          additionalProperties: false,
        },
        instance: instanceIdSchema,
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
};

const webhookEventSchema = {
  type: 'object',
  required: ['type', 'instance', 'outcome', 'source', 'id', 'seq', 'deliveries', 'durationMs', 'at'],
  properties: {
    type: { const: 'webhook' },
    instance: instanceIdSchema,
    outcome: { type: 'string', enum: OUTCOMES },
    source: { type: 'string', maxLength: 64 },
    id: { type: 'string', maxLength: 200 },
    seq: COUNT,
    deliveries: COUNT,
    code: { type: 'string', maxLength: 64 },
    reason: TEXT,
    durationMs: COUNT,
    at: COUNT,
  },
  additionalProperties: false,
};

const suppressedEventSchema = {
  type: 'object',
  required: ['type', 'count', 'at'],
  properties: { type: { const: 'suppressed' }, count: COUNT, at: COUNT },
  additionalProperties: false,
};

const eventsBatchSchema = {
  type: 'object',
  required: ['member', 'instance', 'events'],
  properties: {
    member: MEMBER,
    instance: instanceIdSchema,
    // A snapshot is never sent between processes: each builds its own.
    events: {
      type: 'array',
      maxItems: MAX_BATCH_EVENTS,
      items: { type: 'object', required: ['type'], discriminator: { propertyName: 'type' }, oneOf: [actorEventSchema, webhookEventSchema, suppressedEventSchema] },
    },
  },
  additionalProperties: false,
};

const watchSchema = {
  type: 'object',
  required: ['member', 'forMs'],
  properties: { member: MEMBER, forMs: { type: 'number', exclusiveMinimum: 0, maximum: 60_000 } },
  additionalProperties: false,
};

const ajv = new Ajv({ removeAdditional: true, discriminator: true, allowUnionTypes: true });
const validatePresence = ajv.compile<Presence>(presenceSchema);
const validateMetricsReply = ajv.compile<MetricsReply>(metricsReplySchema);
const validateEventsBatch = ajv.compile<EventsBatch>(eventsBatchSchema);
const validateWatch = ajv.compile<Watch>(watchSchema);

/** Whether a decoded message is a {@link Presence}. */
export function isPresence(v: unknown): v is Presence {
  return validatePresence(v);
}

/**
 * Whether a decoded message is a {@link MetricsReply} within
 * {@link MAX_SERIES} series, every one labelled with the instance the
 * answer names (as every process labels its own).
 */
export function isMetricsReply(v: unknown): v is MetricsReply {
  if (!validateMetricsReply(v)) return false;
  let series = 0;
  for (const m of v.metrics) {
    series += m.values.length;
    if (!m.values.every((s) => s.labels[INSTANCE_LABEL] === v.instance)) return false;
  }
  return series <= MAX_SERIES;
}

/**
 * Whether a decoded message is an {@link EventsBatch} whose every event
 * happened in the instance the batch names.
 */
export function isEventsBatch(v: unknown): v is EventsBatch {
  return validateEventsBatch(v) && v.events.every((e) => !('instance' in e) || (e.instance === v.instance && (e.type !== 'actor' || e.status === undefined || e.status.instance === v.instance)));
}

/** Whether a decoded message is a {@link Watch}. */
export function isWatch(v: unknown): v is Watch {
  return validateWatch(v);
}
