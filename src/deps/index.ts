/**
 * The dependency-actor runtime's public API: what actor files (`actors/*.ts`),
 * handlers and the operating view import. Internals (the machine's context,
 * the supervisor machine) stay reachable by path for tests.
 */
export { defineDependency, type DependencyDefinition, type DependencySpec } from './definition.js';
export { startDependencies, type DependencyRuntime, type HandlesOf, type StartDependenciesOptions } from './runtime.js';
export type { CallContext, PerformCall } from './call.js';
export type { CallOptions, DependencyCaller } from './caller.js';
export type { DependencyOptions, RateLimit } from './options.js';
export type { RestartPolicy } from './supervisor.js';
export type { BreakerState } from './breaker.js';
export type { Availability, DependencyActivity, DependencyStatus } from './status.js';
export type {
  DepCallRefusedEvent,
  DepCallSettledEvent,
  DepCallStartedEvent,
  DepCrashedEvent,
  DepEvent,
  DepEventListener,
  DepStartedEvent,
  DepTransitionEvent,
  DepWaitingEvent,
} from './events.js';
export { found, notFound, type Lookup } from './lookup.js';
export { requestJson, parseRetryAfter, errorForStatus, type JsonRequestOptions, type JsonResponse } from './http.js';
export { responseValidator, type ResponseValidator } from './validation.js';
export { startDevInspector, type DevInspector, type DevInspectorOptions } from './inspector.js';
export {
  DepErrorCodes,
  type DepErrorCode,
  DependencyError,
  CircuitOpenError,
  OverloadedError,
  DependencyTimeoutError,
  UnavailableError,
  ServerError,
  RateLimitedError,
  RejectedError,
  BadResponseError,
  ActorRestartedError,
  asDependencyError,
  hasDepCode,
  isDependencyError,
  isCircuitOpenError,
  isOverloadedError,
  isDependencyTimeoutError,
  isRateLimitedError,
  isRejectedError,
  isActorRestartedError,
} from './errors.js';
