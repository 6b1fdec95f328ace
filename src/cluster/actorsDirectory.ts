import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Log } from '../log.js';
import type { DependencyStatus } from '../runtime/status.js';

/**
 * Subject every processing instance answers with the state of the
 * dependencies it runs (`nats req webhook-relay.ops.actors '' --replies 0`).
 */
const ACTORS_SUBJECT = 'webhook-relay.ops.actors';

/** One instance's answer on {@link ACTORS_SUBJECT}. */
export interface InstanceActors {
  instance: string;
  dependencies: DependencyStatus[];
}

/**
 * Answers {@link ACTORS_SUBJECT} with this instance's running dependencies.
 * @returns the subscription
 */
export function serveActors(nc: NatsConnection, instance: string, held: () => DependencyStatus[], log: Log): Subscription {
  return nc.subscribe(ACTORS_SUBJECT, {
    callback: (err, msg) => {
      if (err) return log.warn({ err }, 'actors subscription failed');
      msg.respond(JSON.stringify({ instance, dependencies: held() } satisfies InstanceActors));
    },
  });
}

/**
 * Asks every live instance for its running dependencies and collects the
 * answers that arrive within `maxWaitMs`.
 */
export async function gatherActors(nc: NatsConnection, maxWaitMs = 300): Promise<InstanceActors[]> {
  const answers: InstanceActors[] = [];
  try {
    for await (const msg of await nc.requestMany(ACTORS_SUBJECT, '', { strategy: 'timer', maxWait: maxWaitMs })) {
      answers.push(msg.json<InstanceActors>());
    }
  } catch {
    // No responders or a closed connection: whatever arrived is the answer.
  }
  return answers;
}
