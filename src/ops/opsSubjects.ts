import type { MetricsJson } from './metrics.js';
import type { LiveEvent } from './opsSource.js';
import type { RecentGrowth } from './recentWindow.js';

/**
 * The operating view's NATS subjects. Every process of every instance (edge
 * workers included) takes part, so that `/stats`, `/metrics`, `/actors` and
 * `/events` read the same way on one machine and across many. Operators may
 * listen with the nats CLI: `nats sub 'webhook-relay.ops.>'`.
 */
export const OpsSubjects = {
  /** Every process announces itself here every few seconds ({@link Presence}). */
  presence: 'webhook-relay.ops.presence',
  /** Every process answers with its metrics ({@link MetricsReply}). */
  metrics: 'webhook-relay.ops.metrics',
  /** The processes of one instance answer with their metrics. */
  instanceMetrics: (instance: string) => `webhook-relay.ops.metrics.${instance}`,
  /** Every processing process answers with its latest notable events ({@link EventsBatch}). */
  recent: 'webhook-relay.ops.recent',
  /** Processes with `/events` clients say so here every few seconds ({@link Watch}). */
  watch: 'webhook-relay.ops.watch',
  /** A processing process's live-feed batches while someone watches ({@link EventsBatch}). */
  events: (instance: string) => `webhook-relay.ops.events.${instance}`,
  /** Every instance's live-feed batches. */
  allEvents: 'webhook-relay.ops.events.*',
} as const;

/**
 * The payload of a request on the ops subjects: the asking process's member
 * id, so that it does not answer itself (it reads its own data directly).
 */
export type OpsRequest = string;

/** What a process is: the main process of an instance (whatever it runs), or one of its edge workers. */
export type MemberRole = 'primary' | 'edgeWorker';

/** One process of the service, as it announces itself. */
export interface Presence {
  /** Unique per process (a restarted process gets a new one). */
  member: string;
  /** `INSTANCE_ID`. */
  instance: string;
  pid: number;
  role: MemberRole;
  /** Whether it runs processing (and so answers {@link OpsSubjects.recent} and feeds events). */
  processing: boolean;
  /** Epoch ms the process started. */
  startedAt: number;
  /** Sent once when it stops, so the others forget it at once. */
  leaving?: boolean;
  /** Sent once when it starts: the others announce themselves at once instead of at their next beat. */
  hello?: boolean;
}

/** A process's answer on {@link OpsSubjects.metrics}. */
export interface MetricsReply {
  member: string;
  instance: string;
  /** Its prom-client metrics, with the gauges it samples refreshed just before. */
  metrics: MetricsJson;
  /** The durations of its last deliveries in ms (processing processes), for a cluster-wide p99. */
  recentDurationsMs: number[];
  /** What its counters grew by in the last minutes. */
  recentGrowth: RecentGrowth;
}

/** A message on {@link OpsSubjects.watch}. */
export interface Watch {
  /** The watching process. */
  member: string;
  /** How long the feed should run without another watch message, in ms. */
  forMs: number;
}

/** A message on {@link OpsSubjects.events}, and an answer on {@link OpsSubjects.recent}. */
export interface EventsBatch {
  member: string;
  instance: string;
  events: LiveEvent[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 200;

/** Whether a decoded message is a {@link Presence}. */
export function isPresence(v: unknown): v is Presence {
  return (
    isObject(v) &&
    isText(v.member) &&
    isText(v.instance) &&
    Number.isInteger(v.pid) &&
    (v.role === 'primary' || v.role === 'edgeWorker') &&
    typeof v.processing === 'boolean' &&
    typeof v.startedAt === 'number'
  );
}

/** Whether a decoded message is a {@link MetricsReply}. */
export function isMetricsReply(v: unknown): v is MetricsReply {
  return (
    isObject(v) &&
    isText(v.member) &&
    isText(v.instance) &&
    Array.isArray(v.metrics) &&
    v.metrics.every((m) => isObject(m) && typeof m.name === 'string' && typeof m.type === 'string' && Array.isArray(m.values)) &&
    Array.isArray(v.recentDurationsMs) &&
    v.recentDurationsMs.every((d) => typeof d === 'number') &&
    isObject(v.recentGrowth) &&
    ['refused', 'retried', 'deadLettered'].every((k) => typeof (v.recentGrowth as Record<string, unknown>)[k] === 'number')
  );
}

/** Whether a decoded message is an {@link EventsBatch}. */
export function isEventsBatch(v: unknown): v is EventsBatch {
  return isObject(v) && isText(v.member) && isText(v.instance) && Array.isArray(v.events) && v.events.every((e) => isObject(e) && typeof e.type === 'string');
}

/** Whether a decoded message is a {@link Watch}. */
export function isWatch(v: unknown): v is Watch {
  return isObject(v) && isText(v.member) && typeof v.forMs === 'number' && v.forMs > 0 && v.forMs <= 60_000;
}

/** Decodes a JSON payload; undefined when it is not JSON. */
export function decodeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
}
