import type { Log } from '../log.js';
import { memorySessionStore, type SessionStore } from './mam/session.js';
import { dependencyDefinitions, type DependenciesConfig, type DependencyDefinitions } from './registry.js';
import { startDevInspector, type DevInspector } from './runtime/inspector.js';
import { startDependencies, type DependencyRuntime, type HandlesOf, type StartDependenciesOptions } from './runtime/runtime.js';

/** The typed handles handlers receive: `deps.audnex.getBook(asin)`. */
export type Deps = HandlesOf<DependencyDefinitions>;

/** The running dependency actors, plus the inspector when one was started. */
export interface DependencyActors {
  readonly runtime: DependencyRuntime<DependencyDefinitions>;
  readonly deps: Deps;
  readonly inspector: DevInspector | undefined;
  /** Stops the actors (closing Chromium) and the inspector. */
  stop(): Promise<void>;
}

/** Options of {@link startDependencyActors}. */
export interface StartActorsOptions {
  log?: Log;
  restart?: StartDependenciesOptions['restart'];
  /** @default [] */
  forbiddenPorts?: readonly number[];
  /** @default an in-memory store */
  sessions?: SessionStore;
  /**
   * `HOST`: the interface the XState inspector listens on.
   * @default '127.0.0.1'
   */
  inspectHost?: string;
  /**
   * Where calls of cluster-scoped dependencies go and what their owners
   * recorded (see `DependencyOwnership`); those actors start only when this
   * instance takes their lease.
   * @default undefined (every actor runs here)
   */
  cluster?: Pick<StartDependenciesOptions, 'deferred' | 'routeCalls' | 'remoteBreaker'>;
}

/**
 * Starts the supervisor with every dependency actor; with `XSTATE_INSPECT=1`
 * also the XState inspector (its URL is logged).
 * @throws RangeError when a dependency's options are invalid.
 */
export async function startDependencyActors(config: DependenciesConfig, options: StartActorsOptions = {}): Promise<DependencyActors> {
  const inspector = config.inspect.enabled ? await startDevInspector({ port: config.inspect.port, host: options.inspectHost }) : undefined;
  if (inspector) options.log?.info({ url: inspector.url }, 'XState inspector: open this URL in a browser');
  const definitions = dependencyDefinitions(config, {
    forbiddenPorts: (options.forbiddenPorts ?? []).filter((p) => p > 0),
    sessions: options.sessions ?? memorySessionStore(),
    log: options.log,
  });
  const runtime: DependencyRuntime<DependencyDefinitions> = startDependencies(definitions, {
    log: options.log,
    restart: options.restart,
    inspect: inspector?.inspect,
    ...options.cluster,
  });
  return {
    runtime,
    deps: runtime.deps,
    inspector,
    async stop() {
      await runtime.stop();
      await inspector?.stop();
    },
  };
}
