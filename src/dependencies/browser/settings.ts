import { hostPortListVar, type HostPort } from '../../config/allowHosts.js';
import { readVar, type Env } from '../../config/parse.js';
import { limitDefaults, readLimits, type DependencyLimits } from '../settings.js';

/** `BROWSER_*` and `CHROMIUM_PATH` settings. */
export interface BrowserSettings extends DependencyLimits {
  /** `CHROMIUM_PATH`: the Chromium executable. */
  chromiumPath: string;
  /**
   * `BROWSER_ALLOW_HOSTS`: targets a page may reach although their address
   * is loopback, private or otherwise refused (comma-separated `host[:port]`).
   * @default [] (public addresses only)
   */
  allowHosts: readonly HostPort[];
}

/** Two new page loads a second, five pages at once (one browser's memory); page load plus rendering (30 s). */
export const BROWSER_DEFAULTS: BrowserSettings = {
  ...limitDefaults({ rate: 2, burst: 5, concurrency: 5, timeoutMs: 30_000 }),
  chromiumPath: '/usr/bin/chromium',
  allowHosts: [],
};

/**
 * Reads the browser's limits, `CHROMIUM_PATH` and `BROWSER_ALLOW_HOSTS`.
 * @throws ConfigError naming the first variable with a bad value.
 */
export function readBrowserSettings(env: Env): BrowserSettings {
  return {
    ...readLimits(env, 'BROWSER', BROWSER_DEFAULTS),
    chromiumPath: readVar(env, 'CHROMIUM_PATH') ?? BROWSER_DEFAULTS.chromiumPath,
    allowHosts: hostPortListVar(env, 'BROWSER_ALLOW_HOSTS'),
  };
}
