import { context } from '@opentelemetry/api';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { failSpan, startServeSpan } from '../../tracing/messagingSpans.js';
import type { Log } from '../../log.js';
import type { DependencyCaller } from '../runtime/caller.js';
import { BadCallError, OverloadedError, OwnerUnavailableError, asDependencyError, isBadCallError } from '../runtime/errors.js';
import type { DependencyStatus } from '../runtime/status.js';
import { decodeEnvelope, encodeWire, errorReply } from './callWire.js';
import { callSubject } from '../../bus/names.js';

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
 * drawn at `rate` per second, or the rounds of `concurrency` calls (the
 * ones in flight and those queued ahead) that must end before a slot is
 * free for it, each taking the actor's typical call time, whichever is
 * longer; after any 429 pause.
 */
export function estimatedWaitMs(status: DependencyStatus, at: number): number {
  const { limits, queueLength, inFlight } = status;
  const pause = Math.max(0, (status.pausedUntil ?? at) - at);
  const byRate = (queueLength / limits.rate) * 1000;
  const ahead = inFlight + queueLength - limits.concurrency + 1;
  const bySlots = ahead > 0 ? Math.ceil(ahead / limits.concurrency) * (status.callMs ?? 0) : 0;
  return pause + Math.max(byRate, bySlots);
}

/**
 * Room kept, on the owner's clock, for the reply's way back and the
 * caller's own bookkeeping: a call must be able to end this long before
 * its caller gives up.
 */
export const REPLY_MARGIN_MS = 250;

/**
 * Serves calls forwarded by other instances on `webhook-relay.dep.<name>.call`
 * while this instance owns the dependency: each valid call joins the local
 * mailbox and its result or error is the reply. Nothing a message claims is
 * taken on trust: the request is checked field by field and its cost
 * recomputed (the local caller applies the definition's), its deadline is
 * capped at `maxDeadlineMs`, and a message without a reply subject is
 * dropped. A call starts only while it can still end before its caller
 * gives up: by `receivedAt + deadline − timeout − REPLY_MARGIN_MS`. A message that is not a valid call gets `DEP_BAD_CALL` (permanent:
 * it never reaches the mailbox or the breaker) and is logged; a call the
 * queue cannot start and finish within its deadline gets `DEP_OVERLOADED` at once.
 * @returns the subscription (unsubscribe when the lease ends)
 */
export function serveCalls(o: CallServerOptions): Subscription {
  const { name } = o.local;
  const subject = callSubject(name);
  const handle = async (msg: Msg & { reply: string }) => {
    const served = startServeSpan(subject, name, msg.headers);
    try {
      await context.with(served.context, () => serve(msg));
    } catch (e) {
      failSpan(served.span, e);
    } finally {
      served.span.end();
    }
  };
  const serve = async (msg: Msg & { reply: string }) => {
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
      const timeoutMs = status?.limits.timeoutMs ?? 0;
      // The last moment the call may start and still end, timeout and all, before its caller gives up.
      const startBy = receivedAt + deadlineMs - timeoutMs - REPLY_MARGIN_MS;
      if (startBy <= receivedAt || (status && receivedAt + estimatedWaitMs(status, receivedAt) > startBy)) {
        throw new OverloadedError(name, status?.limits.maxQueue ?? 0, `cannot start the call within its caller's deadline of ${deadlineMs} ms`);
      }
      // Still queued at startBy, it is dropped, not sent: its caller would have given up before it ended.
      msg.respond(encodeWire({ ok: true, value: await o.local.call(request, { startBy }) }));
    } catch (e) {
      const error = asDependencyError(name, e);
      if (isBadCallError(error)) o.log.warn({ code: error.code, dependency: name, subject: msg.subject, err: error }, 'refused a message that is not a valid call');
      msg.respond(encodeWire(errorReply(error)));
      throw error;
    }
  };
  return o.nc.subscribe(subject, {
    callback: (err, msg) => {
      if (err) return o.log.warn({ err, dependency: name }, 'call subscription failed');
      // Nobody waits for a call without a reply subject: running it would spend the limit for nothing.
      if (!msg.reply) return o.log.warn({ code: 'DEP_BAD_CALL', dependency: name, subject: msg.subject }, 'refused a call without a reply subject');
      void handle(msg as Msg & { reply: string });
    },
  });
}
