import type { BreakerState, DependencyStatus } from '../dependencies/mod.js';
import type { ServiceStats } from './stats.js';

/** One dependency as `GET /actors` shows it: its status, with absent times as `null` so every key is always there. */
export type ActorStatus = Omit<DependencyStatus, 'nextProbeAt' | 'pausedUntil' | 'callMs'> & {
  /** How long a call typically takes, in ms; null before the first has ended. */
  callMs: number | null;
  /** Epoch ms the next probe may go out (open only). */
  nextProbeAt: number | null;
  /** Epoch ms a 429's `Retry-After` ends, while it has not. */
  pausedUntil: number | null;
  /** The instance running this dependency's actor and since when (ISO 8601); null for an instance-scoped one. */
  owner: DependencyOwner | null;
  /** `INSTANCE_ID` of the instance this status comes from. */
  instance: string;
};

/** Who runs a cluster-scoped dependency (its lease in `dependency-owners`). */
export interface DependencyOwner {
  /** `INSTANCE_ID` of the owner. */
  instance: string;
  since: string;
}

/** A dependency's status as `instance` sees it, with absent times as `null`. */
export function actorStatus(d: DependencyStatus, instance: string, owner?: DependencyOwner): ActorStatus {
  return { ...d, nextProbeAt: d.nextProbeAt ?? null, pausedUntil: d.pausedUntil ?? null, callMs: d.callMs ?? null, owner: owner ?? null, instance };
}

/** `GET /actors`: every dependency actor's state. */
export interface ActorsView {
  /** ISO time of this snapshot. */
  at: string;
  dependencies: ActorStatus[];
}

/** How a delivery ended, or that a webhook was dead-lettered, as the live feed reports it. */
export type WebhookOutcome = 'done' | 'retrying' | 'exhausted' | 'deadLettered';

/** One entry of the live feed (`GET /events`); its `type` is the SSE event name. */
export type LiveEvent =
  | {
      type: 'actor';
      /** `INSTANCE_ID` of the instance whose actor it is. */
      instance: string;
      /** What happened: a breaker transition, a crash, a (re)start. */
      cause: 'transition' | 'crashed' | 'started';
      dependency: string;
      from?: BreakerState | undefined;
      to?: BreakerState;
      reason?: string;
      /** Epoch ms of the event. */
      at: number;
      /** The dependency's state right after it. */
      status: ActorStatus | undefined;
    }
  | {
      type: 'webhook';
      /** `INSTANCE_ID` of the instance that processed it. */
      instance: string;
      outcome: WebhookOutcome;
      source: string;
      id: string;
      seq: number;
      deliveries: number;
      code?: string;
      reason?: string;
      durationMs: number;
      at: number;
    }
  | {
      /** Every few seconds while someone listens: the whole picture. */
      type: 'snapshot';
      at: number;
      stats: ServiceStats;
      actors: ActorsView;
      /** Only in the first snapshot a client gets: the latest notable events, oldest first. */
      recent?: LiveEvent[];
    }
  | {
      /** Webhook events left out of the feed because there were too many at once (counters still count them). */
      type: 'suppressed';
      count: number;
      at: number;
    };

/** Receives live events in batches (at most one batch per flush interval). */
export type LiveListener = (batch: readonly LiveEvent[]) => void;

/**
 * Where the HTTP routes of the operating view get their data: this process
 * and, over NATS, every other process of the cluster.
 */
export interface OpsReader {
  /** Counters summed over every live process of every instance that answers in time. */
  stats(): Promise<ServiceStats>;
  /** @throws ServiceError OPS_UNAVAILABLE when no process running processing answers. */
  actors(): Promise<ActorsView>;
  /** The latest notable events (breaker changes, crashes, retries, dead letters) of every instance, oldest first. */
  recent(): Promise<LiveEvent[]>;
  /** Prometheus text exposition (format 0.0.4) of this instance: its processes summed, labelled `instance_id`. */
  metrics(): Promise<string>;
  /**
   * Receives every instance's live events from now on.
   * @returns a function that unsubscribes
   */
  subscribe(listener: LiveListener): () => void;
  /** Releases timers and listeners. */
  stop(): void;
}
