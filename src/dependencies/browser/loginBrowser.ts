import { parseHostPort } from '../../config/allowHosts.js';
import { DependencyTimeoutError } from '../runtime/errors.js';
import type { FormRequest, FormResult } from './calls.js';
import { submitPageForm, withPage } from './page.js';
import { SharedChromium } from './chromium.js';
import { createTargetGuard } from './targetGuard.js';

/** Options of {@link createLoginBrowser}. */
export interface LoginBrowserOptions {
  /** The actor that logs in (`mam`), for the errors raised. */
  dependency: string;
  /** `CHROMIUM_PATH`. */
  chromiumPath: string;
  /** How long one login may take, and each of its steps (`BROWSER_TIMEOUT_MS`). */
  timeoutMs: number;
  /** The configured site the form is on (`MAM_URL`): its host and port are allowed whatever their address. */
  site: string;
  /** Ports no page may reach: the service's own HTTP port. */
  forbiddenPorts: readonly number[];
  /**
   * How long Chromium stays up after a login, for a retry soon after; then it exits.
   * @default 30000
   */
  idleMs?: number;
}

/** Submits a site's login form in a Chromium of this process. */
export interface LoginBrowser {
  /**
   * Fills and submits a form, returning the cookies the site set.
   * @throws DependencyError as the browser actor's pages do (`DEP_REJECTED`
   * when a selector does not match exactly one element or the form page is
   * 4xx, `DEP_TARGET_FORBIDDEN`, `DEP_TIMEOUT`, `DEP_UNAVAILABLE`).
   */
  submitForm(request: FormRequest): Promise<FormResult>;
  /** Closes Chromium now, if it runs. */
  close(): Promise<void>;
}

/**
 * A login that runs where its credentials are configured: the actor that
 * owns them (MAM) fills the form in a Chromium it launches for its logins
 * (closed again after `idleMs` without one), so an email, a password or a
 * session cookie never travels on a NATS subject to another instance's
 * browser actor. Every request of the page goes through the same address
 * guard as the browser actor's pages; the configured site is allowed.
 */
export function createLoginBrowser(o: LoginBrowserOptions): LoginBrowser {
  const site = parseHostPort(new URL(o.site).host);
  const guard = createTargetGuard({ forbiddenPorts: o.forbiddenPorts, allowHosts: site ? [site] : [] });
  let chromium: SharedChromium | undefined;
  let idle: NodeJS.Timeout | undefined;
  const close = async () => {
    clearTimeout(idle);
    const closing = chromium;
    chromium = undefined;
    await closing?.close();
  };
  return {
    async submitForm(request) {
      clearTimeout(idle);
      chromium ??= new SharedChromium({ dependency: o.dependency, executablePath: o.chromiumPath, args: guard.chromiumArgs, launchTimeoutMs: o.timeoutMs });
      const signal = AbortSignal.timeout(o.timeoutMs);
      try {
        const env = { dependency: o.dependency, signal, guard, timeoutMs: o.timeoutMs };
        return await withPage(await chromium.browser(), env, (page) => submitPageForm(page, { ...request, timeoutMs: o.timeoutMs }, o.dependency));
      } catch (e) {
        // The page was closed under the login when its time ran out.
        throw signal.aborted ? new DependencyTimeoutError(o.dependency, o.timeoutMs) : e;
      } finally {
        idle = setTimeout(() => void close().catch(() => undefined), o.idleMs ?? 30_000);
        idle.unref();
      }
    },
    close,
  };
}
