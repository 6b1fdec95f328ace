import { context, isSpanContextValid, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE, ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_URL_PATH, ATTR_URL_SCHEME } from '@opentelemetry/semantic-conventions';
import type { Middleware } from 'koa';
import { tracer } from '../tracing/tracer.js';

/**
 * Starts one SERVER span per request (OpenTelemetry HTTP conventions), the
 * child of the sender's own `traceparent` when it sends one, and makes it
 * the active span for everything the request does (the publish's PRODUCER
 * span among them). Named `<method> <route>` once the router has matched.
 * With tracing off the span is the API's no-op one and nothing is recorded.
 */
export function serverSpan(): Middleware {
  return async function serverSpan(ctx, next) {
    const parent = propagation.extract(context.active(), ctx.headers);
    const span = tracer().startSpan(ctx.method, { kind: SpanKind.SERVER }, parent);
    // Tracing off: nothing to record and no trace context to pass on.
    if (!span.isRecording() && !isSpanContextValid(span.spanContext())) {
      await next();
      return;
    }
    try {
      await context.with(trace.setSpan(parent, span), () => next());
    } finally {
      if (span.isRecording()) {
        const route = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
        if (route !== undefined) span.updateName(`${ctx.method} ${String(route)}`);
        span.setAttributes({
          [ATTR_HTTP_REQUEST_METHOD]: ctx.method,
          [ATTR_URL_PATH]: ctx.path,
          [ATTR_URL_SCHEME]: ctx.protocol,
          [ATTR_HTTP_RESPONSE_STATUS_CODE]: ctx.status,
          ...(route === undefined ? {} : { [ATTR_HTTP_ROUTE]: String(route) }),
        });
        // A 4xx is the client's mistake, not a failed server span (HTTP conventions).
        if (ctx.status >= 500) {
          span.setStatus({ code: SpanStatusCode.ERROR });
          span.setAttribute(ATTR_ERROR_TYPE, String(ctx.status));
        }
      }
      span.end();
    }
  };
}
