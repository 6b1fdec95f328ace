import { flagVar, intVar, type Env } from '../config/parse.js';
import type { Log } from '../log.js';
import { audnexDependency } from './audnex/audnex.js';
import { readAudnexSettings } from './audnex/settings.js';
import { botpressDependency } from './botpress/botpress.js';
import { readBotpressSettings } from './botpress/settings.js';
import { browserDependency } from './browser/browser.js';
import { createLoginBrowser } from './browser/loginBrowser.js';
import { readBrowserSettings, type BrowserSettings } from './browser/settings.js';
import { mamDependency } from './mam/mam.js';
import type { SessionStore } from './mam/session.js';
import { readMamSettings } from './mam/settings.js';
import { openaiDependency } from './openai/openai.js';
import { readOpenAISettings } from './openai/settings.js';
import type { DependencyDefinition } from './runtime/definition.js';

/** What the definitions need from the rest of the service. */
export interface DependencyWiring {
  /** Ports the browser must never reach (the service's own HTTP port, with its admin routes). */
  forbiddenPorts: readonly number[];
  /** Where MAM's session cookie survives restarts (the `sessions` KV bucket). */
  sessions: SessionStore;
  log?: Log;
}

/**
 * How many owners a dependency has across the instances: `cluster`, one
 * (its lease in `dependency-owners`); `instance`, one per instance;
 * `configurable`, as `BROWSER_SCOPE` says.
 */
export type DependencyScope = 'cluster' | 'instance' | 'configurable';

/** One member of the registry: how to read its settings, its defaults, its scope and how to define its actor. */
interface Member<S, D extends DependencyDefinition<unknown>> {
  readonly scope: DependencyScope;
  /**
   * Reads its `<DEP>_*` variables over its defaults (its folder's `settings.ts`).
   * @throws ConfigError naming the first variable with a bad value.
   */
  read(env: Env): S;
  /** Its actor's definition, from its settings (and, for a dependency that uses another's, all of them). */
  define(settings: S, wiring: DependencyWiring, others: OtherSettings): D;
}

/** What a definition may read of another dependency's settings: MAM's login uses the browser's Chromium and time limit. */
interface OtherSettings {
  browser: BrowserSettings;
}

const member = <S, D extends DependencyDefinition<unknown>>(m: Member<S, D>): Member<S, D> => m;

/**
 * Every dependency the service runs, by name (= its actor's systemId): a new
 * dependency is one folder and one line here.
 */
const DEPENDENCIES = {
  audnex: member({ scope: 'cluster', read: readAudnexSettings, define: (s) => audnexDependency(s) }),
  mam: member({
    scope: 'cluster',
   
    read: readMamSettings,
    define: (s, wiring, others) =>
      mamDependency(s, {
        // MAM logs in where MAM_EMAIL and MAM_PASSWORD are, with the browser's Chromium and time limit.
        login: createLoginBrowser({ dependency: 'mam', chromiumPath: others.browser.chromiumPath, timeoutMs: others.browser.timeoutMs, site: s.url, forbiddenPorts: wiring.forbiddenPorts }),
        sessions: wiring.sessions,
        log: wiring.log,
      }),
  }),
  openai: member({ scope: 'cluster', read: readOpenAISettings, define: (s) => openaiDependency(s) }),
  botpress: member({ scope: 'cluster', read: readBotpressSettings, define: (s) => botpressDependency(s) }),
  browser: member({ scope: 'configurable', read: readBrowserSettings, define: (s, wiring) => browserDependency(s, { forbiddenPorts: wiring.forbiddenPorts }) }),
};

type Members = typeof DEPENDENCIES;

/** `audnex`, `mam`, `openai`, `botpress` or `browser`. */
export type DependencyName = keyof Members;

/** Every dependency's name, in the registry's order. */
export const DEPENDENCY_NAMES = Object.keys(DEPENDENCIES) as DependencyName[];

type DependencySettingsOf<M> = { [K in keyof M]: M[K] extends Member<infer S, DependencyDefinition<unknown>> ? S : never };

/** `XSTATE_INSPECT=1` (development only) and `XSTATE_INSPECT_PORT`. */
export interface InspectSettings {
  enabled: boolean;
  port: number;
}

/** Every dependency's settings, read once at start, and the inspector's. */
export type DependenciesConfig = DependencySettingsOf<Members> & { inspect: InspectSettings };

/**
 * Reads every dependency's variables into one validated object.
 * @throws ConfigError (code `CONFIG_INVALID`) naming the first variable with a bad value, and the value.
 */
export function loadDependenciesConfig(env: Env): DependenciesConfig {
  const settings = Object.fromEntries(DEPENDENCY_NAMES.map((n) => [n, DEPENDENCIES[n].read(env)])) as DependencySettingsOf<Members>;
  return { ...settings, inspect: { enabled: flagVar(env, 'XSTATE_INSPECT', false), port: intVar(env, 'XSTATE_INSPECT_PORT', 8484, { min: 1, max: 65_535 }) } };
}

/** The dependencies with one owner across the cluster, given `BROWSER_SCOPE`. */
export function clusterScoped(browserScope: 'instance' | 'cluster'): DependencyName[] {
  return DEPENDENCY_NAMES.filter((n) => DEPENDENCIES[n].scope === 'cluster' || (DEPENDENCIES[n].scope === 'configurable' && browserScope === 'cluster'));
}

/**
 * How long a call forwarded to the instance that owns `name` may take,
 * mailbox wait included: twice its `<DEP>_TIMEOUT_MS` (one for the wait, one for the call).
 */
export function forwardDeadlineMs(config: DependenciesConfig, name: DependencyName): number {
  return 2 * config[name].timeoutMs;
}

/** Each dependency's actor definition, by name. */
export type DependencyDefinitions = { [K in DependencyName]: ReturnType<Members[K]['define']> };

/** Every dependency's actor definition, from its settings. */
export function dependencyDefinitions(config: DependenciesConfig, wiring: DependencyWiring): DependencyDefinitions {
  const define = <K extends DependencyName>(name: K) => (DEPENDENCIES[name] as Member<DependenciesConfig[K], DependencyDefinitions[K]>).define(config[name], wiring, config);
  return Object.fromEntries(DEPENDENCY_NAMES.map((n) => [n, define(n)])) as DependencyDefinitions;
}
