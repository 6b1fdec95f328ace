import type { DepsConfig } from '../src/config/deps.js';
import type { Log } from '../src/log.js';
import { startDevInspector, type DevInspector } from '../src/deps/inspector.js';
import { startDependencies, type DependencyRuntime, type HandlesOf, type StartDependenciesOptions } from '../src/deps/runtime.js';
import { audnexDependency } from './audnex.js';

/**
 * Every dependency actor the service runs, by systemId; a new dependency is
 * one more line here.
 */
export function dependencyDefinitions(config: DepsConfig) {
  return {
    audnex: audnexDependency(config.audnex),
  };
}

/** The definitions' shape. */
export type DependencyDefinitions = ReturnType<typeof dependencyDefinitions>;

/** The typed handles handlers receive: `deps.audnex.getBook(asin)`. */
export type Deps = HandlesOf<DependencyDefinitions>;

/** The running dependency actors, plus the inspector when one was started. */
export interface DependencyActors {
  readonly runtime: DependencyRuntime<DependencyDefinitions>;
  readonly deps: Deps;
  readonly inspector: DevInspector | undefined;
  /** Stops the actors and the inspector. */
  stop(): void;
}

/**
 * Starts the supervisor with every dependency actor; with `XSTATE_INSPECT=1`
 * also the XState inspector (its URL is logged).
 * @throws RangeError when a dependency's options are invalid.
 */
export async function startDependencyActors(
  config: DepsConfig,
  options: { log?: Log; restart?: StartDependenciesOptions['restart'] } = {},
): Promise<DependencyActors> {
  const inspector = config.inspect.enabled ? await startDevInspector(config.inspect.port) : undefined;
  if (inspector) options.log?.info({ url: inspector.url }, 'XState inspector: open this URL in a browser');
  const runtime = startDependencies(dependencyDefinitions(config), { ...options, inspect: inspector?.inspect });
  return {
    runtime,
    deps: runtime.deps,
    inspector,
    stop() {
      runtime.stop();
      inspector?.stop();
    },
  };
}
