/**
 * The public face of the dependencies: everything the rest of the service
 * uses of them (the registry, starting the actors, their typed handles and
 * what those return, ownership across instances, the status they report).
 * Code outside `src/dependencies/` imports only this file.
 */
export type { AudnexBook } from './audnex/schemas.js';
export { AUDNEX_ASIN } from './audnex/audnex.js';
export type { MamTorrent } from './mam/schemas.js';
export { kvSessionStore } from './mam/session.js';
export { clusterScoped, forwardDeadlineMs, loadDependenciesConfig, DEPENDENCY_NAMES, type DependenciesConfig, type DependencyName } from './registry.js';
export { startDependencyActors, type DependencyActors, type Deps } from './start.js';
export { dependencyStatusProperties, dependencyStatusRequired, instanceIdSchema, isInstanceActors, type InstanceActors } from './ownership/actorsDirectory.js';
export { DependencyOwnership } from './ownership/ownership.js';
export type { BreakerState } from './runtime/breaker.js';
export type { DepEvent, DepEventListener } from './runtime/dependencyEvents.js';
export type { DependencyRuntime } from './runtime/runtime.js';
export type { DependencyStatus } from './runtime/status.js';
