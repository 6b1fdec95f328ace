import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/** The id of a span's parent, when it has one. */
export const parentOf = (s: ReadableSpan): string | undefined => s.parentSpanContext?.spanId;

/** A span's own id. */
export const idOf = (s: ReadableSpan): string => s.spanContext().spanId;

/**
 * Registers, for the `describe` it is called in, a global tracer provider
 * (AsyncLocalStorage context manager and W3C propagator, as the SDK sets
 * them) whose spans an in-memory exporter keeps; unregisters it after.
 * @returns the exporter, to read the finished spans from
 */
export function recordSpans(): InMemorySpanExporter {
  const exporter = new InMemorySpanExporter();
  let provider: NodeTracerProvider | undefined;
  before(() => {
    provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    provider.register();
  });
  after(async () => {
    await provider?.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });
  return exporter;
}
