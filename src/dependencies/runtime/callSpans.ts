import { SpanKind, SpanStatusCode, type Context, type Span } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import { SpanAttributes as A, tracer } from '../../tracing/tracer.js';
import type { BreakerState } from './breaker.js';
import type { DepEventListener } from './dependencyEvents.js';

/** Name of a dependency call's CLIENT span. */
const callSpanName = (dependency: string): string => `dependency.call ${dependency}`;

/**
 * Turns the runtime's call events into one CLIENT span per dependency call,
 * the child of the context the caller sent with its `dep.call` (the
 * processing span). The span starts when the call entered the mailbox and
 * ends when it settles; `webhook_relay.dependency.mailbox_wait_ms` is the
 * time it waited there (rate limit, concurrency, a 429's pause), and
 * `webhook_relay.dependency.breaker_state` the breaker state it met. A
 * refused call is a span that fails at once. With tracing off no span is
 * kept.
 */
export function traceDependencyCalls(): DepEventListener {
  const open = new Map<string, Span>();
  const key = (dependency: string, callId: string) => `${dependency}\u0000${callId}`;

  const start = (e: { dependency: string; trace: Context | undefined }, startTime: number, breaker: BreakerState | undefined): Span | undefined => {
    if (!e.trace) return undefined;
    const span = tracer().startSpan(callSpanName(e.dependency), { kind: SpanKind.CLIENT, startTime }, e.trace);
    if (!span.isRecording()) return undefined;
    span.setAttribute(A.dependencyName, e.dependency);
    if (breaker) span.setAttribute(A.breakerState, breaker);
    return span;
  };
  const fail = (span: Span, code: string, at: number) => {
    span.setAttribute(ATTR_ERROR_TYPE, code);
    span.setStatus({ code: SpanStatusCode.ERROR, message: code });
    span.end(at);
  };

  return (e) => {
    switch (e.type) {
      case 'dep.callStarted': {
        // Only the probe leaves the mailbox while half-open; no call starts while open.
        const span = start(e, e.at - e.waitedMs, e.probe ? 'halfOpen' : 'closed');
        if (!span) return;
        span.setAttribute(A.mailboxWaitMs, e.waitedMs);
        span.addEvent('dependency.call.started', e.at);
        open.set(key(e.dependency, e.callId), span);
        return;
      }
      case 'dep.callSettled': {
        const k = key(e.dependency, e.callId);
        const span = open.get(k);
        if (!span) return;
        open.delete(k);
        if (e.outcome === 'failed') fail(span, e.code ?? 'DEP_FAILED', e.at);
        else span.end(e.at);
        return;
      }
      case 'dep.callRefused': {
        // Refused while open (DEP_CIRCUIT_OPEN), or for a full mailbox in a state not carried by the event.
        const span = start(e, e.at, e.code === 'DEP_CIRCUIT_OPEN' ? 'open' : undefined);
        if (span) fail(span, e.code, e.at);
        return;
      }
      case 'dep.crashed':
        for (const [k, span] of open) {
          if (!k.startsWith(`${e.dependency}\u0000`)) continue;
          open.delete(k);
          fail(span, 'DEP_ACTOR_RESTARTED', e.at);
        }
        return;
    }
  };
}
