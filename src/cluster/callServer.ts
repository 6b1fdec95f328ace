import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Log } from '../log.js';
import type { DependencyCaller } from '../runtime/caller.js';
import { BadCallError, OverloadedError, OwnerUnavailableError, asDependencyError, isBadCallError } from '../runtime/errors.js';
import type { DependencyStatus } from '../runtime/status.js';
import { callSubject, decodeEnvelope, encodeWire, errorReply } from './callWire.js';

/** Options of {@link serveCalls}. */
export interface CallServerOptions {
  nc: NatsConnection;
  /** The local caller of the owned actor: forwarded calls join its one mailbox (and pay what the definition says the request costs). */
  local: DependencyCaller<unknown>;
  /**
   * Checks a forwarded request field by field (the definition's `parseRequest`) and returns it.
   * @default accepts any object
   */
  parseRequest?: (request: unknown) => unknown;
  /** The longest a forwarded call may take, mailbox wait included (this owner's forward deadline for the dependency); a caller's longer deadline is cut to it. */
  maxDeadlineMs: number;
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
 * mailbox and its result or error is the reply. Nothing a message claims is
 * taken on trust: the request is checked field by field and its cost
 * recomputed (the local caller applies the definition's), its deadline is
 * capped at `maxDeadlineMs`, and a message without a reply subject is
 * dropped. A message that is not a valid call gets `DEP_BAD_CALL` (permanent:
 * it never reaches the mailbox or the breaker) and is logged; a call the
 * queue cannot start and finish within its deadline gets `DEP_OVERLOADED` at once.
 * @returns the subscription (unsubscribe when the lease ends)
 */
export function serveCalls(o: CallServerOptions): Subscription {
  const { name } = o.local;
  const handle = async (msg: Msg & { reply: string }) => {
    try {
      const envelope = decodeEnvelope(name, msg.data);
      let request: unknown;
      try {
        request = o.parseRequest ? o.parseRequest(envelope.request) : envelope.request;
      } catch (e) {
        throw new BadCallError(name, e instanceof Error ? e.message.replace(`${name}: `, '') : String(e));
      }
      if (!o.isOwner()) throw new OwnerUnavailableError(name, 'lease ended');
      const receivedAt = Date.now();
      // A caller may claim any deadline: the owner's own forward deadline is the most a call may hold its queue.
      const deadlineMs = Math.min(envelope.deadlineMs, o.maxDeadlineMs);
      const status = o.status();
      if (status && estimatedWaitMs(status, Date.now()) + status.limits.timeoutMs > deadlineMs) {
        throw new OverloadedError(name, status.limits.maxQueue);
      }
      // A call still queued when its caller gives up is dropped, not sent: the caller retries it anyway.
      msg.respond(encodeWire({ ok: true, value: await o.local.call(request, { startBy: receivedAt + deadlineMs }) }));
    } catch (e) {
      const error = asDependencyError(name, e);
      if (isBadCallError(error)) o.log.warn({ code: error.code, dependency: name, subject: msg.subject, err: error }, 'refused a message that is not a valid call');
      msg.respond(encodeWire(errorReply(error)));
    }
  };
  return o.nc.subscribe(callSubject(name), {
    callback: (err, msg) => {
      if (err) return o.log.warn({ err, dependency: name }, 'call subscription failed');
      // Nobody waits for a call without a reply subject: running it would spend the limit for nothing.
      if (!msg.reply) return o.log.warn({ code: 'DEP_BAD_CALL', dependency: name, subject: msg.subject }, 'refused a call without a reply subject');
      void handle(msg as Msg & { reply: string });
    },
  });
}
