import { chromium, type Browser } from 'playwright';
import { DependencyError } from '../runtime/errors.js';

/**
 * Flags for a headless Chromium on a server, on top of Playwright's own
 * automation defaults. Each call gets a fresh browser context, so the
 * profile (Playwright's temporary user data dir) holds nothing between calls.
 */
const SERVER_CHROMIUM_ARGS = [
  // The service runs as root in its container, where Chromium's sandbox cannot start.
  '--no-sandbox',
  '--disable-gpu',
  // Containers give /dev/shm 64 MB; Chromium writes to /tmp instead.
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-extensions',
  // WebRTC may send UDP to any address, around the guard's proxy: only proxied TCP is left to it.
  '--force-webrtc-ip-handling-policy=disable_non_proxied_udp',
] as const;

/** Options of {@link SharedChromium}. */
export interface SharedChromiumOptions {
  /** The actor's name, for the errors raised. */
  dependency: string;
  /** `CHROMIUM_PATH`. */
  executablePath: string;
  /** Flags added to {@link SERVER_CHROMIUM_ARGS} (the target guard's). */
  args: readonly string[];
  /** How long a launch may take. */
  launchTimeoutMs: number;
}

/** The first line of a Playwright error (the rest is its call log). */
export function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!.trim();
}

/**
 * The one Chromium of the service: launched on first use, launched again
 * after it crashed or disconnected, closed by {@link SharedChromium.close}.
 * Concurrent first calls share one launch.
 */
export class SharedChromium {
  private current: Promise<Browser> | undefined;
  private closed = false;

  constructor(private readonly options: SharedChromiumOptions) {}

  /**
   * The running browser, launching it when there is none.
   * @throws DependencyError `DEP_UNAVAILABLE` (retriable) when it cannot be
   * launched (the message names `CHROMIUM_PATH`) or has been closed.
   */
  async browser(): Promise<Browser> {
    // A crash can surface in a call before the 'disconnected' event: one relaunch covers that.
    for (let attempt = 0; attempt < 2; attempt++) {
      if (this.closed) throw new DependencyError('DEP_UNAVAILABLE', this.options.dependency, 'Chromium is closed: the service is stopping');
      const launching = (this.current ??= this.launch());
      const browser = await launching;
      if (browser.isConnected()) return browser;
      this.forget(launching);
    }
    throw new DependencyError('DEP_UNAVAILABLE', this.options.dependency, 'Chromium disconnects right after its launch');
  }

  /** Closes the browser (waiting for a launch under way) and refuses to launch another. */
  async close(): Promise<void> {
    this.closed = true;
    const launching = this.current;
    this.current = undefined;
    // A launch that failed left nothing to close.
    const browser = await launching?.catch(() => undefined);
    await browser?.close();
  }

  private launch(): Promise<Browser> {
    const { dependency, executablePath, args, launchTimeoutMs } = this.options;
    const launching: Promise<Browser> = chromium
      .launch({
        executablePath,
        headless: true,
        args: [...SERVER_CHROMIUM_ARGS, ...args],
        timeout: launchTimeoutMs,
        // The service's own shutdown closes the browser (the definition's dispose).
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
      })
      .then(
        (browser) => {
          browser.on('disconnected', () => this.forget(launching));
          return browser;
        },
        (e: unknown) => {
          this.forget(launching);
          throw new DependencyError('DEP_UNAVAILABLE', dependency, `cannot launch Chromium at ${executablePath} (CHROMIUM_PATH): ${firstLine(e)}`, { cause: e });
        },
      );
    return launching;
  }

  private forget(launching: Promise<Browser>): void {
    if (this.current === launching) this.current = undefined;
  }
}
