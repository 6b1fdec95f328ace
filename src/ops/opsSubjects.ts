import type { MetricsJson } from './metrics.js';
import type { LiveEvent } from './opsReader.js';
import type { RecentGrowth } from './recentWindow.js';

/**
 * The payload of a request on the ops subjects: the asking process's member
 * id, so that it does not answer itself (it reads its own data directly).
 */
export type OpsRequest = string;

/** What a process is: the main process of an instance (whatever it runs), or one of its edge processes. */
export type MemberRole = 'primary' | 'edgeProcess';

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

/** Decodes a JSON payload; undefined when it is not JSON. */
export function decodeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
}
