import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Log } from '../log.js';
import type { DependencyCaller } from '../runtime/caller.js';
import { BadCallError, OverloadedError, OwnerUnavailableError, asDependencyError, isBadCallError } from '../runtime/errors.js';
import type { DependencyStatus } from '../runtime/status.js';
import { callSubject, decodeEnvelope, encodeWire, errorReply, type CallReply } from './callWire.js';

/** Options of {@link serveCalls}. */
export interface CallServerOptions {
  nc: NatsConnection;
  /** The local caller of the owned actor: forwarded calls join its one mailbox. */
  local: DependencyCaller<unknown>;
  /** Whether a request has the dependency's shape (the definition's `accepts`). @default accepts any object */
  accepts?: (request: unknown) => boolean;
  /** Whether this instance still owns the dependency (checked per call). */
  isOwner(): boolean;
  /** The actor's state now, to estimate the mailbox wait. */
  status(): DependencyStatus | undefined;
  log: Log;
}

/**
 * Time until a call queued now would start (pure): the calls ahead of it
 * drawn at `rate` per second, after any 429 pause. An estimate: a call's own
 * run time is bounded by `timeoutMs` and counted on top by the caller.
 */
export function estimatedWaitMs(status: DependencyStatus, at: number): number {
  const pause = Math.max(0, (status.pausedUntil ?? at) - at);
  return pause + (status.queueLength / status.limits.rate) * 1000;
}

/**
 * Serves calls forwarded by other instances on `webhook-relay.dep.<name>.call`
 * while this instance owns the dependency: each valid call joins the local
 * mailbox and its result or error is the reply. A message that is not a valid
 * call gets `DEP_BAD_CALL` and is logged; a call the queue cannot start and
 * finish within its deadline gets `DEP_OVERLOADED` at once.
 * @returns the subscription (unsubscribe when the lease ends)
 */
export function serveCalls(o: CallServerOptions): Subscription {
  const { name } = o.local;
  const answer = (msg: Msg, reply: CallReply) => {
    if (!msg.reply) return;
    msg.respond(encodeWire(reply));
  };
  const handle = async (msg: Msg) => {
    try {
      const envelope = decodeEnvelope(name, msg.data);
      if (o.accepts && !o.accepts(envelope.request)) throw new BadCallError(name, `not a ${name} request`);
      if (!o.isOwner()) throw new OwnerUnavailableError(name, 'lease ended');
      const receivedAt = Date.now();
      const status = o.status();
      if (status && estimatedWaitMs(status, Date.now()) + status.limits.timeoutMs > envelope.deadlineMs) {
        throw new OverloadedError(name, status.limits.maxQueue);
      }
      // A call still queued when its caller gives up is dropped, not sent: the caller retries it anyway.
      answer(msg, { ok: true, value: await o.local.call(envelope.request, { cost: envelope.cost, startBy: receivedAt + envelope.deadlineMs }) });
    } catch (e) {
      const error = asDependencyError(name, e);
      if (isBadCallError(error)) o.log.warn({ dependency: name, subject: msg.subject, err: error }, 'refused a message that is not a valid call');
      answer(msg, errorReply(error));
    }
  };
  return o.nc.subscribe(callSubject(name), { callback: (err, msg) => (err ? o.log.warn({ err, dependency: name }, 'call subscription failed') : void handle(msg)) });
}
