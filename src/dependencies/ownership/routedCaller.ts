import type { Msg, MsgHdrs, NatsConnection } from '@nats-io/transport-node';
import { failSpan, startForwardSpan } from '../../tracing/messagingSpans.js';
import type { CallOptions, DependencyCaller } from '../runtime/caller.js';
import { OwnerUnavailableError } from '../runtime/errors.js';
import { decodeReply, encodeWire, type DecodedReply } from './callWire.js';
import { callSubject } from '../../bus/names.js';

/** What {@link createRoutedCaller} needs to decide where a call goes. */
export interface RouteOptions {
  /**
   * Checks the owner's result against the dependency's own result schema (the definition's `parseResult`).
   * @default accepts any value
   */
  parseResult?: (request: unknown, value: unknown) => unknown;
  /** Whether this instance owns the dependency now (its lease). */
  isOwner(): boolean;
  /** The NATS connection, once there is one. */
  nc(): NatsConnection | undefined;
  /**
   * How long a forwarded call may take, mailbox wait included; the owner
   * refuses it up front with `DEP_OVERLOADED` when its queue cannot serve it in time.
   */
  deadlineMs: number;
  /**
   * Aborted when the lease passes to another instance: a call forwarded to
   * the previous owner will get no answer, so it fails now instead of at its deadline.
   * @default undefined (calls wait for their deadline)
   */
  ownerTerm?(): AbortSignal;
}

/**
 * Sends one call to the owner and waits for its reply, or for the owner to
 * change (the old one will not answer).
 * @throws OwnerUnavailableError when no owner answers in time or the owner changes.
 */
async function ask(nc: NatsConnection, subject: string, data: Uint8Array, headers: MsgHdrs | undefined, route: RouteOptions, name: string): Promise<Msg> {
  const term = route.ownerTerm?.();
  let onChange: (() => void) | undefined;
  try {
    const reply = nc.request(subject, data, { timeout: route.deadlineMs, headers });
    reply.catch(() => undefined);
    const changed = new Promise<never>((_, reject) => {
      onChange = () => reject(new Error('the owner changed while the call waited'));
      term?.addEventListener('abort', onChange, { once: true });
    });
    return await Promise.race([reply, changed]);
  } catch (e) {
    // No responders (no owner while the lease changes hands), timeout, disconnect.
    throw new OwnerUnavailableError(name, e instanceof Error ? e.message : String(e), { cause: e });
  } finally {
    if (onChange) term?.removeEventListener('abort', onChange);
  }
}

/**
 * The caller a handle uses for a cluster-scoped dependency: the local actor
 * while this instance owns it, otherwise a NATS request to the owner
 * (`webhook-relay.dep.<name>.call`) in a CLIENT span whose context travels
 * in the request's headers. The owner's error comes back as the same
 * subclass; no owner answering, or a reply that is not a valid result, is a
 * retriable `DEP_OWNER_UNAVAILABLE`.
 */
export function createRoutedCaller(local: DependencyCaller<unknown>, route: RouteOptions): DependencyCaller<unknown> {
  const { name } = local;
  const subject = callSubject(name);
  const forward = async (nc: NatsConnection, request: unknown, headers: MsgHdrs | undefined): Promise<unknown> => {
    const answer = await ask(nc, subject, encodeWire({ request, deadlineMs: route.deadlineMs }), headers, route, name);
    let reply: DecodedReply;
    try {
      reply = decodeReply(name, answer.data);
    } catch (e) {
      throw new OwnerUnavailableError(name, (e as Error).message, { cause: e });
    }
    if (!reply.ok) throw reply.error;
    try {
      return route.parseResult ? route.parseResult(request, reply.value) : reply.value;
    } catch (e) {
      // Retriable: the next delivery may reach the real owner; a handler never sees a value the dependency did not give.
      throw new OwnerUnavailableError(name, `the reply is not a valid ${name} result: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  };
  return {
    name,
    async call<Res>(request: unknown, options: CallOptions = {}): Promise<Res> {
      if (route.isOwner()) return local.call<Res>(request, options);
      const nc = route.nc();
      if (!nc || nc.isClosed()) throw new OwnerUnavailableError(name, 'not connected to NATS');
      const { span, headers } = startForwardSpan(subject, name);
      try {
        return (await forward(nc, request, headers)) as Res;
      } catch (e) {
        failSpan(span, e);
        throw e;
      } finally {
        span.end();
      }
    },
  };
}
