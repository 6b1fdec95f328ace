import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Log } from '../log.js';
import type { DependencyStatus } from '../runtime/status.js';

/**
 * Subject every processing instance answers with the state of the
 * dependencies it runs (`nats req webhook-relay.ops.actors '' --replies 0`).
 */
export const ACTORS_SUBJECT = 'webhook-relay.ops.actors';

/** One instance's answer on {@link ACTORS_SUBJECT}. */
export interface InstanceActors {
  instance: string;
  /** The dependencies whose actors run in this instance. */
  dependencies: DependencyStatus[];
  /** Of those, the cluster-scoped ones it holds the lease of, with the lease's start (ISO 8601). */
  owned: Record<string, string>;
}

/** Whether a decoded answer is an {@link InstanceActors}. */
export function isInstanceActors(v: unknown): v is InstanceActors {
  if (typeof v !== 'object' || v === null) return false;
  const a = v as Partial<InstanceActors>;
  return (
    typeof a.instance === 'string' &&
    Array.isArray(a.dependencies) &&
    a.dependencies.every((d) => typeof d === 'object' && d !== null && typeof d.name === 'string' && typeof d.state === 'string') &&
    typeof a.owned === 'object' &&
    a.owned !== null &&
    Object.values(a.owned).every((since) => typeof since === 'string')
  );
}

/**
 * Answers {@link ACTORS_SUBJECT} with this instance's running dependencies.
 * @returns the subscription
 */
export function serveActors(nc: NatsConnection, held: () => InstanceActors, log: Log): Subscription {
  return nc.subscribe(ACTORS_SUBJECT, {
    callback: (err, msg) => {
      if (err) return log.warn({ err }, 'actors subscription failed');
      msg.respond(JSON.stringify(held()));
    },
  });
}
