import { NodeSDK, resources } from '@opentelemetry/sdk-node';
import { TRACER_NAME } from './tracer.js';

/** Tracing as started by {@link startTracing}. */
export interface Tracing {
  /** Ends the SDK: exports the spans still buffered, then stops the exporter. */
  shutdown(): Promise<void>;
}

/**
 * Whether the environment asks for traces: an OTLP endpoint
 * (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) or an
 * exporter (`OTEL_TRACES_EXPORTER` other than `none`) is set, and
 * `OTEL_SDK_DISABLED` is not `true`.
 */
export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim();
  if (exporter) return exporter !== 'none';
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/**
 * Starts the OpenTelemetry Node SDK for traces when the environment asks for
 * them ({@link tracingRequested}); otherwise starts nothing, and every span
 * the service makes comes from the API's no-op tracer.
 *
 * The SDK reads its settings itself from the standard variables (exporter,
 * endpoint, headers, `OTEL_SERVICE_NAME`, `OTEL_TRACES_SAMPLER`,
 * `OTEL_RESOURCE_ATTRIBUTES` ...); the service name defaults to
 * `webhook-relay`, below both `OTEL_SERVICE_NAME` and a `service.name` in
 * `OTEL_RESOURCE_ATTRIBUTES`. Only traces are exported: metrics stay on `/metrics`.
 * @returns undefined when tracing is off.
 */
export function startTracing(env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  if (!tracingRequested(env)) return undefined;
  const sdk = new NodeSDK({
    // The base resource: what the SDK detects from OTEL_SERVICE_NAME and
    // OTEL_RESOURCE_ATTRIBUTES is merged over it. (Its `serviceName` option would be merged last, over both.)
    resource: resources.defaultResource().merge(resources.resourceFromAttributes({ 'service.name': TRACER_NAME })),
    instrumentations: [],
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
